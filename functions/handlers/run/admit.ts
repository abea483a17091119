import { admitRun } from '../../core/runs/admit-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';

// Admit reports the run's status before and after, so its checkpoint reads nothing more.
export const createHandler = stepHandler('Admit', RunStepInput, (deps, input, scope) => admitRun(deps, input.runId, scope), { reportsWhatItRead: true });

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/admit.ts', RUN_STEP_PARTS);
