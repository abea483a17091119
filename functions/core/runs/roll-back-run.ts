import { describeError } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { loadRun } from './load-run.ts';
import { RunStatus, TaskStatus, packPayload } from './model.ts';
import { onTargets } from './on-targets.ts';
import type { RunError, TaskStatus as TaskStatusType } from './model.ts';
import { carriedApplies, carriedRecord } from './applied-record.ts';
import type { DeferredApply } from './applied-record.ts';

/** Tasks whose effects may exist: applied ones, and ones a crash or failure caught mid-apply. */
const MAY_HAVE_EFFECTS: ReadonlySet<TaskStatusType> = new Set([TaskStatus.APPLYING, TaskStatus.APPLIED, TaskStatus.VERIFIED, TaskStatus.FAILED]);

export interface RollBackResult {
  outcome: 'ROLLED_BACK' | 'FAILED';
  error: RunError;
}

/**
 * Compensates, in reverse order, every task that may have changed something. The compensation list
 * is data (the tasks' statuses), so a replayed rollback skips what it already undid.
 */
export async function rollBackRun(deps: RunDeps, input: { runId: string; error: unknown; applied?: readonly DeferredApply[] }): Promise<RollBackResult> {
  const { run, tasks } = await loadRun(deps, input.runId);
  const error = normaliseWorkflowError(input.error);
  const toUndo = tasks.filter((task) => MAY_HAVE_EFFECTS.has(task.status) && task.plan).reverse();
  const alreadyUndone = tasks.some((task) => task.status === TaskStatus.ROLLED_BACK);
  if (toUndo.length === 0) return { outcome: alreadyUndone ? 'ROLLED_BACK' : 'FAILED', error };

  // An apply record the workflow still carries (Verify stopped before recording it: a timeout, a
  // crash) is recorded first, so the trail says what was applied and the rollback undoes its outcome.
  const carried = carriedApplies(deps, run, tasks, input.applied ?? []);
  const at = deps.clock().toISOString();
  const records = carried.map((entry) => carriedRecord(entry, at));
  const outcomes = new Map(carried.map(({ task, deferred }) => [task.index, deferred.outcome]));
  const cancelled = run.status === RunStatus.CANCELLED;
  const starting = run.status !== RunStatus.ROLLING_BACK;
  if (starting || records.length > 0) {
    await deps.runs.commit(run.id, {
      run: cancelled || !starting ? undefined : { status: RunStatus.ROLLING_BACK },
      tasks: records.map((record) => record.task),
      events: [
        ...records.map((record) => record.event),
        ...(starting
          ? [
              {
                type: 'RollbackStarted',
                level: 'WARN' as const,
                message: `rolling back ${toUndo.length} task(s) after ${error.name}: ${error.message}`,
                payload: { error },
              },
            ]
          : []),
      ],
    });
  }
  for (const task of toUndo) {
    const action = deps.catalog.get(task.action, task.actionVersion);
    try {
      await onTargets(deps, run, task, action, 'rollback', { plan: task.plan!, outcome: outcomes.get(task.index) ?? task.outcome });
    } catch (rollbackError) {
      const described = describeError(rollbackError);
      await deps.runs.commit(run.id, {
        events: [
          {
            type: 'TaskRollbackFailed',
            level: 'ERROR',
            taskIndex: task.index,
            message: `${task.action}: rollback failed: ${described.message}`,
            payload: { ...packPayload(task), error: described },
          },
        ],
      });
      throw rollbackError;
    }
    await deps.runs.commit(run.id, {
      tasks: [{ index: task.index, patch: { status: TaskStatus.ROLLED_BACK, updatedAt: deps.clock().toISOString() } }],
      events: [{ type: 'TaskRolledBack', taskIndex: task.index, message: `${task.action}: rolled back`, payload: packPayload(task) }],
    });
  }
  return { outcome: 'ROLLED_BACK', error };
}

/** The workflow hands over Step Functions' `{Error, Cause}`; Cause is often our error as JSON text. */
export function normaliseWorkflowError(raw: unknown): RunError {
  if (raw && typeof raw === 'object' && 'Error' in raw) {
    const { Error: name, Cause: cause } = raw as { Error?: unknown; Cause?: unknown };
    let message = typeof cause === 'string' ? cause : '';
    try {
      const parsed = JSON.parse(message) as { errorMessage?: unknown; message?: unknown };
      if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
      else if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // Cause was plain text.
    }
    return { name: String(name), message };
  }
  if (raw && typeof raw === 'object' && 'name' in raw) {
    const { name, message } = raw as { name: unknown; message?: unknown };
    return { name: String(name), message: String(message ?? '') };
  }
  return { name: 'Unknown', message: raw === undefined ? '' : String(raw) };
}
