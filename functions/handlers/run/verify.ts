import { verifyRun } from '../../core/runs/verify-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';

export const createHandler = stepHandler('Verify', RunStepInput, (deps, input) => verifyRun(deps, input.runId));

export const handler = lambdaHandler(createHandler);
