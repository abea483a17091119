import { InvalidRunTransition, RunAlreadyFinished } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { loadRun } from './load-run.ts';
import { RunStatus, TERMINAL_STATUSES, isFinished } from './model.ts';
import type { Principal, Run } from './model.ts';
import { tellActionsTheRunEnded } from './finalize-run.ts';
import { releaseRunLocks } from './run-locks.ts';

/** Once a run applies, a cancel lets the current task finish, then rolls back what was applied. */
const APPLYING: ReadonlySet<RunStatus> = new Set([RunStatus.APPLYING, RunStatus.VERIFYING, RunStatus.ROLLING_BACK]);
/** Statuses in which nothing has been applied yet. */
const BEFORE_APPLY = Object.values(RunStatus).filter((status) => !TERMINAL_STATUSES.has(status) && !APPLYING.has(status));

/**
 * Cancels a run that has not finished. Before it applies anything, the run ends CANCELLED at once,
 * its workflow is stopped and its place in any lock queue is given up. While it applies, the cancel
 * is recorded: the run stops before its next task, rolls back what it applied (the workflow's
 * failure path), and ends CANCELLED, releasing its locks.
 */
export async function cancelRun(deps: RunDeps, input: { runId: string; principal: Principal; reason?: string }, attempt = 1): Promise<Run> {
  const { run, tasks } = await loadRun(deps, input.runId);
  if (isFinished(run)) throw new RunAlreadyFinished(`run ${run.id} already finished ${run.status}`, { field: 'id' });
  const at = deps.clock().toISOString();
  const by = input.principal.id;
  const because = input.reason ? `: ${input.reason}` : '';

  if (APPLYING.has(run.status)) {
    if (run.cancelRequested) return run;
    return deps.runs.commit(run.id, {
      expectStatus: [...APPLYING],
      run: { cancelRequested: { by, reason: input.reason, at } },
      events: [
        {
          type: 'CancelRequested',
          level: 'WARN',
          actor: by,
          message: `cancel requested by ${by}${because}; stopping after the current task and rolling back`,
          payload: { reason: input.reason },
        },
      ],
    });
  }

  let cancelled: Run;
  try {
    cancelled = await deps.runs.commit(run.id, {
      expectStatus: BEFORE_APPLY,
      run: { status: RunStatus.CANCELLED, finishedAt: at },
      events: [
        {
          type: 'RunCancelled',
          level: 'WARN',
          actor: by,
          message: `cancelled by ${by}${because} (was ${run.status})`,
          payload: { previousStatus: run.status, reason: input.reason },
        },
      ],
    });
  } catch (error) {
    // The run started applying between our read and our write: cancel it the applying way.
    if (error instanceof InvalidRunTransition && attempt < 3) return cancelRun(deps, input, attempt + 1);
    throw error;
  }
  if (run.executionArn) await deps.engine.stopRun(run.executionArn, `cancelled by ${by}`);
  await releaseRunLocks(deps, run, tasks);
  // The stopped workflow never reaches Finalize: tell the actions here.
  await tellActionsTheRunEnded(deps, cancelled, tasks, RunStatus.CANCELLED);
  return cancelled;
}
