import { VerificationFailed, describeError } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { RunStatus, TaskStatus, packPayload } from './model.ts';
import type { EventDraft, Run, Task } from './model.ts';
import type { TaskChange } from './ports.ts';
import { onTargetsBatch } from './on-targets.ts';
import { carriedApplies, carriedRecord } from './applied-record.ts';
import type { CarriedApply, DeferredApply } from './applied-record.ts';
import type { BatchedOperation } from './on-targets.ts';

/**
 * The most passing tasks whose record Verify leaves to Finalize's commit: the run, each task and its
 * event (with its outbox row), the run's two events and the finishing commit's locks (at most 25)
 * still fit in one transaction of 100 items.
 */
export const MAX_TASKS_VERIFIED_AT_FINISH = 20;

/**
 * What recording verification changes: the run VERIFYING (once), each passed task VERIFIED, their
 * events; with the apply records the workflow carried (`applied`: a task still APPLYING under their
 * claim), each such task's TaskApplied first, the task VERIFIED if it passed, else APPLIED.
 */
export function verificationRecord(
  run: Pick<Run, 'status'>,
  passed: readonly Pick<Task, 'index' | 'action' | 'pack'>[],
  at: string,
  applied: readonly CarriedApply[] = [],
) {
  const entering = run.status === RunStatus.APPLYING;
  const passedIndices = new Set(passed.map((task) => task.index));
  const appliedNow = applied.map((entry) => carriedRecord(entry, at, passedIndices.has(entry.task.index) ? TaskStatus.VERIFIED : TaskStatus.APPLIED));
  const carried = new Set(applied.map(({ task }) => task.index));
  return {
    expectStatus: entering ? [RunStatus.APPLYING] : [RunStatus.VERIFYING],
    run: entering ? { status: RunStatus.VERIFYING } : undefined,
    tasks: [
      ...appliedNow.map((record) => record.task),
      ...passed
        .filter((task) => !carried.has(task.index))
        .map((task): TaskChange => ({ index: task.index, expectStatus: [TaskStatus.APPLIED], patch: { status: TaskStatus.VERIFIED, updatedAt: at } })),
    ],
    events: [
      ...appliedNow.map((record) => record.event),
      ...(entering ? [{ type: 'RunVerifying', message: 'verifying what was applied' }] : []),
      ...passed.map((task): EventDraft => ({ type: 'TaskVerified', taskIndex: task.index, message: `${task.action}: verified`, payload: packPayload(task) })),
    ],
  };
}

export interface VerifyResult {
  verified: number;
  /** Tasks that passed and are left for Finalize to record with the run's end (only when asked to). */
  passed: number[];
  /** The carried apply records left for Finalize with them (only when asked to). */
  applied: DeferredApply[];
  /** The run's status before Verify and after what it recorded. */
  status: { before: RunStatus; after: RunStatus };
}

/**
 * Checks, task by task, that what was applied reads back as planned, and records it in one commit:
 * the run VERIFYING, each task VERIFIED, their events (or, at the first task that fails, what passed
 * before it and the failure). Verification only reads, so a replay after a crash verifies again.
 * With `leaveToFinalize`, a verification that passes whole (and fits) records nothing: it returns the
 * passed tasks, which Finalize records in its finishing commit (one transaction and one checkpoint fewer).
 * `applied` are the apply records the workflow carried (applyTask's `deferRecord`): their tasks are
 * verified as applied, and the records go with whichever commit comes first; when verification stops
 * before any, they are recorded alone, so that a rollback reads the outcomes from the table.
 */
export async function verifyRun(
  deps: RunDeps,
  runId: string,
  options: { leaveToFinalize?: boolean; applied?: readonly DeferredApply[] } = {},
): Promise<VerifyResult> {
  const { run, tasks } = await loadRun(deps, runId);
  const carried = carriedApplies(deps, run, tasks, options.applied ?? []);
  const carriedFor = new Map(carried.map((entry) => [entry.task.index, entry]));
  let recorded = false;
  const passed: Task[] = [];
  const failures: EventDraft[] = [];
  const record = async () => {
    recorded = true;
    const change = verificationRecord(run, passed, deps.clock().toISOString(), carried);
    const events = [...change.events, ...failures];
    if (events.length === 0) return;
    await deps.runs.commit(runId, { head: run, expectStatus: change.expectStatus, ...(change.run ? { run: change.run } : {}), tasks: change.tasks, events });
  };
  const status = (after: RunStatus) => ({ before: run.status, after });
  try {
    assertNotCancelled(run);
    if (run.status !== RunStatus.APPLYING && run.status !== RunStatus.VERIFYING) {
      throw new VerificationFailed(`run ${runId} is ${run.status}; nothing was applied to verify`);
    }

    // The tasks to verify are those up to the first one that is neither verified nor applied (where
    // verification stops, as it stopped there task by task); all of them in one batch (one executor
    // call per executor function), then each answer in task order.
    const applied = (task: Task) => task.status === TaskStatus.APPLIED || carriedFor.has(task.index);
    let stopAt = tasks.findIndex((task) => task.status !== TaskStatus.VERIFIED && (!applied(task) || !task.plan));
    let unknown: unknown;
    const pending: BatchedOperation[] = [];
    let verified = 0;
    for (const [at, task] of tasks.entries()) {
      if (stopAt !== -1 && at >= stopAt) break;
      if (task.status === TaskStatus.VERIFIED) {
        verified += 1;
        continue;
      }
      try {
        const outcome = carriedFor.get(task.index)?.deferred.outcome ?? task.outcome ?? {};
        pending.push({ task, action: deps.catalog.get(task.action, task.actionVersion), operand: { plan: task.plan, outcome } });
      } catch (error) {
        // An action the catalog no longer has: verification stops there, unrecorded, as before.
        [stopAt, unknown] = [at, error];
        break;
      }
    }
    const answers = await onTargetsBatch(deps, run, 'verify', pending);
    for (const [at, { task }] of pending.entries()) {
      const answer = answers[at];
      if (!answer.ok) {
        const described = describeError(answer.error);
        failures.push({
          type: 'TaskVerificationFailed',
          level: 'ERROR',
          taskIndex: task.index,
          message: `${task.action}: ${described.message}`,
          payload: { ...packPayload(task), error: described },
        });
        await record();
        throw answer.error;
      }
      passed.push(task);
      verified += 1;
    }
    if (unknown !== undefined) throw unknown;
    if (stopAt !== -1) {
      const task = tasks[stopAt];
      await record();
      throw new VerificationFailed(`task ${task.index} is ${task.status}, not applied`);
    }
    if (options.leaveToFinalize && passed.length <= MAX_TASKS_VERIFIED_AT_FINISH) {
      return { verified, passed: passed.map((task) => task.index), applied: carried.map((entry) => entry.deferred), status: status(run.status) };
    }
    await record();
    return { verified, passed: [], applied: [], status: status(RunStatus.VERIFYING) };
  } catch (error) {
    // Whatever stopped verification before a commit, the carried applies are recorded before the
    // workflow rolls back, as the apply would have recorded them.
    if (!recorded && carried.length > 0) {
      const at = deps.clock().toISOString();
      const records = carried.map((entry) => carriedRecord(entry, at));
      await deps.runs.commit(runId, { head: run, tasks: records.map((entry) => entry.task), events: records.map((entry) => entry.event) });
    }
    throw error;
  }
}
