import { TaskStatus, packPayload } from './model.ts';
import type { EventDraft, Run, Task, TaskStatus as TaskStatusType } from './model.ts';
import type { TaskChange } from './ports.ts';
import type { RunDeps } from './deps.ts';
import type { Action } from '../actions/contract.ts';

/**
 * An apply's record that the workflow carries, in its state, to the run's next commit instead of the
 * apply committing it alone (applyTask's `deferRecord`: the last task of a run, whose next commit
 * comes right after it). The task stays APPLYING under `attempt` until then; Step Functions keeps the
 * state, so a replay of the later steps finds the outcome there and applies nothing again.
 */
export interface DeferredApply {
  taskIndex: number;
  attempt: number;
  outcome: Record<string, unknown>;
  /** When the action answered: the TaskApplied event is committed later, so its payload carries this. */
  appliedAt: string;
}

/**
 * A longer outcome (characters of its JSON) is recorded by the apply itself: the workflow state has a
 * size limit (256 KiB), far above this even at three bytes a character.
 */
export const MAX_DEFERRED_OUTCOME_LENGTH = 8 * 1024;

/** What the trail records of who may act beyond reads: the run's reason for access, for actions that change something. */
export function privilegedPayload(run: Pick<Run, 'reasonForAccess'>, action: Pick<Action, 'safety'>): { reasonForAccess?: string } {
  return action.safety.category !== 'READ' ? { reasonForAccess: run.reasonForAccess } : {};
}

/** An apply record the workflow carried, matched to its task as read (still APPLYING under the claim that applied it). */
export interface CarriedApply {
  task: Pick<Task, 'index' | 'action' | 'pack'>;
  deferred: DeferredApply;
  privileged: Record<string, unknown>;
}

/** The carried apply records whose task, as read, still holds the claim that applied it; the others were recorded (or superseded) already. */
export function carriedApplies(deps: Pick<RunDeps, 'catalog'>, run: Run, tasks: readonly Task[], applied: readonly DeferredApply[]): CarriedApply[] {
  return applied.flatMap((deferred) => {
    const task = tasks.find((candidate) => candidate.index === deferred.taskIndex);
    // Nothing claimed the task again since the apply that answered `deferred`.
    if (!task || task.status !== TaskStatus.APPLYING || task.attempt !== deferred.attempt) return [];
    return [{ task, deferred, privileged: privilegedPayload(run, deps.catalog.get(task.action, task.actionVersion)) }];
  });
}

/**
 * What recording an apply changes: the task `status` (APPLIED, or VERIFIED when its verification is
 * recorded in the same commit) with its outcome, and its TaskApplied event. A deferred record expects
 * the task still APPLYING, and its event says when the action answered.
 */
export function appliedRecord(
  task: Pick<Task, 'index' | 'action' | 'pack'>,
  record: { outcome: Record<string, unknown>; at: string; privileged: Record<string, unknown>; deferred?: DeferredApply; status?: TaskStatusType },
): { task: TaskChange; event: EventDraft } {
  return {
    task: {
      index: task.index,
      ...(record.deferred ? { expectStatus: [TaskStatus.APPLYING] } : {}),
      patch: { status: record.status ?? TaskStatus.APPLIED, outcome: record.outcome, updatedAt: record.at },
    },
    event: {
      type: 'TaskApplied',
      taskIndex: task.index,
      message: `${task.action}: applied`,
      payload: { ...packPayload(task), outcome: record.outcome, ...record.privileged, ...(record.deferred ? { appliedAt: record.deferred.appliedAt } : {}) },
    },
  };
}

/** The record of a carried apply, committed `at` (by Verify, Finalize or RollBack), the task left `status`. */
export function carriedRecord(carried: CarriedApply, at: string, status: TaskStatusType = TaskStatus.APPLIED): { task: TaskChange; event: EventDraft } {
  return appliedRecord(carried.task, { outcome: carried.deferred.outcome, at, privileged: carried.privileged, deferred: carried.deferred, status });
}
