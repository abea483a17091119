import { admitRun } from '../../core/runs/admit-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';

export const createHandler = stepHandler('Admit', RunStepInput, (deps, input) => admitRun(deps, input.runId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/admit.ts', RUN_STEP_PARTS);
