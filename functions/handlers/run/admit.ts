import { admitRun } from '../../core/runs/admit-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';

export const createHandler = stepHandler('Admit', RunStepInput, (deps, input) => admitRun(deps, input.runId));

export const handler = lambdaHandler(createHandler);
