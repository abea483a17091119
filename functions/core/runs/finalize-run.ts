import { describeError } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { loadRun } from './load-run.ts';
import { RunStatus, isFinished, packPayload } from './model.ts';
import type { Run, RunError, Task } from './model.ts';
import { normaliseWorkflowError } from './roll-back-run.ts';
import { releaseRunLocks } from './run-locks.ts';
import { own } from '../own.ts';

export interface WorkflowResult {
  outcome: 'PLANNED' | 'SUCCEEDED' | 'ROLLED_BACK' | 'FAILED';
  error?: unknown;
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

/** Records how the run ended. A run that already ended (a cancel, a replay) keeps its status. */
export async function finalizeRun(deps: RunDeps, input: { runId: string; result: WorkflowResult }): Promise<{ status: RunStatus; head?: Run }> {
  const { run, tasks } = await loadRun(deps, input.runId);
  if (isFinished(run)) {
    // A replay after a crash between the commit and the release: release again (idempotent).
    await releaseRunLocks(deps, run, tasks);
    return { status: run.status, head: run };
  }
  const error = input.result.error === undefined ? undefined : normaliseWorkflowError(input.result.error);
  const outcome = finalStatus(input.result, error);
  // A cancel that arrived while applying ends the run CANCELLED once its rollback is done.
  const status = run.cancelRequested && outcome !== RunStatus.SUCCEEDED ? RunStatus.CANCELLED : outcome;
  const failed = status !== RunStatus.SUCCEEDED && status !== RunStatus.PLANNED;
  const head = await deps.runs.commit(run.id, {
    head: run,
    run: { status, finishedAt: deps.clock().toISOString(), ...(error ? { error } : {}) },
    events: [
      {
        type: own(EVENT_FOR_STATUS, status) ?? `Run${status}`,
        level: failed ? 'ERROR' : 'INFO',
        message: failed && error ? `run ended ${status}: ${error.name}: ${error.message}` : `run ended ${status}`,
        payload: error ? { status, error } : { status },
      },
    ],
  });
  await releaseRunLocks(deps, run, tasks);
  const noted = await tellActionsTheRunEnded(deps, run, tasks, status);
  // The head as committed, unless a failed notice was recorded after it.
  return { status, ...(noted ? {} : { head }) };
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
