import * as z from 'zod';
import { rollBackRun } from '../../core/runs/roll-back-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { AppliedTasksInput, RunStepInput, deferredApplies } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';
import { actionContext, executor } from '../shared/ports.ts';

/** `applied`: the Apply map's results, with the apply record it may carry (empty when Apply itself failed; absent on an older definition). */
const RollBackInput = RunStepInput.extend({ error: z.unknown(), applied: AppliedTasksInput.optional() });

export const createHandler = stepHandler('RollBack', RollBackInput, (deps, input) =>
  rollBackRun(deps, { runId: input.runId, error: input.error, applied: deferredApplies(input.applied) }),
);

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/roll-back.ts', { ...RUN_STEP_PARTS, executor, actionContext });
