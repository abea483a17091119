import { TaskStatus, packPayload } from './model.ts';
import type { EventDraft, Run, Task, TaskStatus as TaskStatusType } from './model.ts';
import type { TaskChange } from './ports.ts';
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

/** A larger outcome is recorded by the apply itself: the workflow state has a size limit (256 KiB). */
export const MAX_DEFERRED_OUTCOME_BYTES = 8 * 1024;

/** What the trail records of who may act beyond reads: the run's reason for access, for actions that change something. */
export function privilegedPayload(run: Pick<Run, 'reasonForAccess'>, action: Pick<Action, 'safety'>): { reasonForAccess?: string } {
  return action.safety.category !== 'READ' ? { reasonForAccess: run.reasonForAccess } : {};
}

/** The task, as read, still holds the claim that applied `deferred` (nothing claimed it again since). */
export function holdsDeferredApply(task: Pick<Task, 'status' | 'attempt'>, deferred: DeferredApply | undefined): deferred is DeferredApply {
  return deferred !== undefined && task.status === TaskStatus.APPLYING && task.attempt === deferred.attempt;
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
