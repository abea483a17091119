import { verifyRun } from '../../core/runs/verify-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';
import { actionContext, executor } from '../shared/ports.ts';

export const createHandler = stepHandler('Verify', RunStepInput, (deps, input) => verifyRun(deps, input.runId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/verify.ts', { ...RUN_STEP_PARTS, executor, actionContext });
