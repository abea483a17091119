import { verifyRun } from '../../core/runs/verify-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';

export const handler = stepHandler('Verify', RunStepInput, (deps, input) => verifyRun(deps, input.runId));
