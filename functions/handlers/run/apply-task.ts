import * as z from 'zod';
import { applyTask } from '../../core/runs/apply-task.ts';
import { MAX_LOCKS_IN_CLAIM } from '../../core/runs/run-locks.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';
import { actionContext, executor, policy } from '../shared/ports.ts';

const ApplyTaskInput = RunStepInput.extend({
  taskIndex: z.number().int().min(0),
  /** The Map iteration: the run's first apply (0) takes the locks. */
  iteration: z.number().int().min(0).optional(),
  /** What the plan locks, as Plan told the workflow: only a hint of what to read with the run (the run's own record decides). */
  lockResources: z.array(z.string().min(1).max(2048)).max(MAX_LOCKS_IN_CLAIM).optional(),
  /** The workflow carries the run's last apply record to Verify and Finalize (an execution of an older definition does not). */
  deferLastRecord: z.boolean().optional(),
});

// The step reports the task and run status it read, so the handler reads neither again for its trace and checkpoint.
export const createHandler = stepHandler(
  'ApplyTask',
  ApplyTaskInput,
  async (deps, input, scope) => {
    const { status, deferred } = await applyTask(
      deps,
      {
        runId: input.runId,
        taskIndex: input.taskIndex,
        deferRecord: input.deferLastRecord,
        ...(input.iteration === 0 ? { lockHint: input.lockResources } : {}),
      },
      scope,
    );
    // Always present: the state machine's ResultSelector names it.
    return { status, deferred: deferred ?? null };
  },
  { reportsWhatItRead: true },
);

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/apply-task.ts', { ...RUN_STEP_PARTS, policy, executor, actionContext });
