import { admitRun } from '../../core/runs/admit-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';

export const handler = stepHandler('Admit', RunStepInput, (deps, input) => admitRun(deps, input.runId));
