import { planRun } from '../../core/runs/plan-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';

export const handler = stepHandler('Plan', RunStepInput, (deps, input) => planRun(deps, input.runId));
