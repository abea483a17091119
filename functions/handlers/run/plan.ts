import { planRun } from '../../core/runs/plan-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';
import { actionContext, executor, policy } from '../shared/ports.ts';

export const createHandler = stepHandler('Plan', RunStepInput, (deps, input) => planRun(deps, input.runId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/plan.ts', { ...RUN_STEP_PARTS, policy, executor, actionContext });
