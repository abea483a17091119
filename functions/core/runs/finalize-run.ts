import { ConcurrentModification, VerificationFailed, describeError } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { loadRun } from './load-run.ts';
import { RunStatus, TaskStatus, isFinished, packPayload } from './model.ts';
import type { Run, RunError, Task } from './model.ts';
import { normaliseWorkflowError } from './roll-back-run.ts';
import { locksToReleaseInCommit, releaseRunLocks } from './run-locks.ts';
import type { RunChange } from './ports.ts';
import { own } from '../own.ts';
import { verificationRecord } from './verify-run.ts';
import { carriedApplies } from './applied-record.ts';
import type { CarriedApply, DeferredApply } from './applied-record.ts';

export interface WorkflowResult {
  outcome: 'PLANNED' | 'SUCCEEDED' | 'ROLLED_BACK' | 'FAILED';
  error?: unknown;
  /** Tasks Verify found as planned and left for this commit to record (verifyRun's `leaveToFinalize`). */
  verified?: readonly number[];
  /** Apply records the workflow carried past Verify for this commit (applyTask's `deferRecord`). */
  applied?: readonly DeferredApply[];
}

/** Failures whose cause makes the run end in a status of its own rather than FAILED. */
export const STATUS_FOR_ERROR: Record<string, RunStatus> = {
  'States.Timeout': RunStatus.EXPIRED,
  'States.HeartbeatTimeout': RunStatus.EXPIRED,
  ApprovalRejected: RunStatus.REJECTED,
  ApprovalExpired: RunStatus.EXPIRED,
  PolicyDenied: RunStatus.DENIED,
  ResourceNotManaged: RunStatus.DENIED,
  AutonomyExceeded: RunStatus.DENIED,
  BlastRadiusExceeded: RunStatus.DENIED,
  RunCancelled: RunStatus.CANCELLED,
};

export function finalStatus(result: WorkflowResult, error: RunError | undefined): RunStatus {
  if (result.outcome !== 'FAILED') return result.outcome;
  return (error && own(STATUS_FOR_ERROR, error.name)) ?? RunStatus.FAILED;
}

const EVENT_FOR_STATUS: Partial<Record<RunStatus, string>> = {
  PLANNED: 'RunPlanOnlyFinished',
  SUCCEEDED: 'RunSucceeded',
  ROLLED_BACK: 'RunRolledBack',
  FAILED: 'RunFailed',
  EXPIRED: 'RunExpired',
  REJECTED: 'RunRejected',
  DENIED: 'RunDenied',
  CANCELLED: 'RunCancelled',
};

/**
 * Records how the run ended. A run that already ended (a cancel, a replay) keeps its status.
 * `afterwards` gets the finished run (its head as committed, or undefined when more was recorded after
 * it) and runs beside the release of the run's locks; its result is returned as `afterwards`.
 */
export async function finalizeRun<T = undefined>(
  deps: RunDeps,
  input: { runId: string; result: WorkflowResult },
  afterwards: (head: Run | undefined) => Promise<T> = async () => undefined as T,
): Promise<{ status: RunStatus; afterwards: T }> {
  const { run, tasks } = await loadRun(deps, input.runId);
  if (isFinished(run)) {
    // A replay after a crash between the commit and the release: release again (idempotent).
    return { status: run.status, afterwards: await beside(releaseRunLocks(deps, run, tasks), afterwards(run)) };
  }
  const error = input.result.error === undefined ? undefined : normaliseWorkflowError(input.result.error);
  const outcome = finalStatus(input.result, error);
  // A cancel that arrived while applying ends the run CANCELLED once its rollback is done.
  const status = run.cancelRequested && outcome !== RunStatus.SUCCEEDED ? RunStatus.CANCELLED : outcome;
  const failed = status !== RunStatus.SUCCEEDED && status !== RunStatus.PLANNED;
  const at = deps.clock().toISOString();
  const verified =
    status === RunStatus.SUCCEEDED && input.result.verified
      ? verifiedNow(run, tasks, input.result.verified, at, carriedApplies(deps, run, tasks, input.result.applied ?? []))
      : undefined;
  const finish = (releaseLocks?: RunChange['releaseLocks']) =>
    deps.runs.commit(run.id, {
      head: run,
      ...(verified ? { expectStatus: verified.expectStatus, tasks: verified.tasks } : {}),
      run: { status, finishedAt: at, ...(error ? { error } : {}) },
      events: [
        ...(verified?.events ?? []),
        {
          type: own(EVENT_FOR_STATUS, status) ?? `Run${status}`,
          level: failed ? 'ERROR' : 'INFO',
          message: failed && error ? `run ended ${status}: ${error.name}: ${error.message}` : `run ended ${status}`,
          payload: error ? { status, error } : { status },
        },
      ],
      releaseLocks,
    });
  // The locks the run holds as its last apply recorded them go with the commit; should one have passed
  // on (or the run be in a line), the commit goes alone and the locks are released one by one after it.
  const held = locksToReleaseInCommit(run, tasks);
  let head: Run;
  let released = false;
  try {
    head = await finish(held);
    released = held !== undefined;
  } catch (error) {
    if (!(error instanceof ConcurrentModification && error.details?.changed === 'locks')) throw error;
    head = await finish();
  }
  // The locks go while the actions hear of the end and the caller's work runs: neither depends on the other.
  const after = await beside(
    released ? Promise.resolve() : releaseRunLocks(deps, run, tasks),
    // The head as committed, unless a failed notice was recorded after it.
    tellActionsTheRunEnded(deps, run, tasks, status).then((noted) => afterwards(noted ? undefined : head)),
  );
  return { status, afterwards: after };
}

/**
 * Verify's record of the tasks it left to this commit, with the apply records carried for them; a
 * task named that is neither applied nor verified (nor still held by the apply carried) is a contradiction.
 */
function verifiedNow(run: Run, tasks: readonly Task[], indices: readonly number[], at: string, carried: readonly CarriedApply[]) {
  const named = indices.map((index) => tasks.find((task) => task.index === index));
  const held = new Set(carried.map((entry) => entry.task.index));
  for (const [place, task] of named.entries()) {
    if (task?.status !== TaskStatus.APPLIED && task?.status !== TaskStatus.VERIFIED && !(task && held.has(task.index))) {
      throw new VerificationFailed(`run ${run.id}: task ${indices[place]} is ${task ? task.status : 'not a task of the run'}, yet Verify passed it`);
    }
  }
  return verificationRecord(
    run,
    tasks.filter((task) => indices.includes(task.index) && (task.status === TaskStatus.APPLIED || held.has(task.index))),
    at,
    carried,
  );
}

/** `work`'s result once `other` is done too (neither is left running when one fails; the first failure is thrown). */
async function beside<T>(other: Promise<unknown>, work: Promise<T>): Promise<T> {
  const [first, second] = await Promise.allSettled([other, work]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return second.value;
}

/** Actions that must tell something outside the run how it ended (a DR restore waiting on it) hear it here. */
/** True when it recorded a failed notice on the run. */
export async function tellActionsTheRunEnded(deps: RunDeps, run: Run, tasks: readonly Task[], status: RunStatus): Promise<boolean> {
  let noted = false;
  for (const task of tasks) {
    const action = deps.catalog.get(task.action, task.actionVersion);
    if (!action.onRunEnded) continue;
    try {
      await action.onRunEnded(status, task.plan, task.params, deps.actionContext(run, task));
    } catch (error) {
      await deps.runs.commit(run.id, {
        events: [
          {
            type: 'RunEndNoticeFailed',
            level: 'WARN',
            taskIndex: task.index,
            message: `${task.action} could not act on the run's end: ${describeError(error).message}`,
            payload: packPayload(task),
          },
        ],
      });
      noted = true;
    }
  }
  return noted;
}
