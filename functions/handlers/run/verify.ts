import * as z from 'zod';
import { verifyRun } from '../../core/runs/verify-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { AppliedTasksInput, RunStepInput, deferredApplies } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';
import { actionContext, executor } from '../shared/ports.ts';

/** `leaveToFinalize`: the workflow hands the passed tasks to Finalize (an execution of an older definition does not). */
const VerifyInput = RunStepInput.extend({
  leaveToFinalize: z.boolean().optional(),
  /** The Apply map's results: the apply records it carried (an execution of an older definition passes none). */
  applied: AppliedTasksInput.optional(),
});

export const createHandler = stepHandler(
  'Verify',
  VerifyInput,
  async (deps, input, scope) => {
    const result = await verifyRun(deps, input.runId, { leaveToFinalize: input.leaveToFinalize, applied: deferredApplies(input.applied) });
    scope.status(result.status.before, result.status.after);
    return { verified: result.verified, passed: result.passed, applied: result.applied };
  },
  { reportsWhatItRead: true },
);

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/verify.ts', { ...RUN_STEP_PARTS, executor, actionContext });
