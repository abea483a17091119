import { VerificationFailed, describeError } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { RunStatus, TaskStatus, packPayload } from './model.ts';
import type { EventDraft } from './model.ts';
import type { TaskChange } from './ports.ts';
import { onTargetsBatch } from './on-targets.ts';
import type { BatchedOperation } from './on-targets.ts';

/**
 * Checks, task by task, that what was applied reads back as planned, and records it in one commit:
 * the run VERIFYING, each task VERIFIED, their events (or, at the first task that fails, what passed
 * before it and the failure). Verification only reads, so a replay after a crash verifies again.
 */
export async function verifyRun(deps: RunDeps, runId: string): Promise<{ verified: number }> {
  const { run, tasks } = await loadRun(deps, runId);
  assertNotCancelled(run);
  if (run.status !== RunStatus.APPLYING && run.status !== RunStatus.VERIFYING) {
    throw new VerificationFailed(`run ${runId} is ${run.status}; nothing was applied to verify`);
  }
  const verifying =
    run.status === RunStatus.APPLYING
      ? { expectStatus: [RunStatus.APPLYING], run: { status: RunStatus.VERIFYING }, events: [{ type: 'RunVerifying', message: 'verifying what was applied' }] }
      : { expectStatus: [RunStatus.VERIFYING], events: [] };
  const passed: TaskChange[] = [];
  const events: EventDraft[] = [...verifying.events];
  const record = () =>
    deps.runs.commit(runId, { head: run, expectStatus: verifying.expectStatus, ...(verifying.run ? { run: verifying.run } : {}), tasks: passed, events });

  // The tasks to verify are those up to the first one that is neither verified nor applied (where
  // verification stops, as it stopped there task by task); all of them in one batch (one executor
  // call per executor function), then each answer in task order.
  let stopAt = tasks.findIndex((task) => task.status !== TaskStatus.VERIFIED && (task.status !== TaskStatus.APPLIED || !task.plan));
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
      pending.push({ task, action: deps.catalog.get(task.action, task.actionVersion), operand: { plan: task.plan, outcome: task.outcome ?? {} } });
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
      events.push({
        type: 'TaskVerificationFailed',
        level: 'ERROR',
        taskIndex: task.index,
        message: `${task.action}: ${described.message}`,
        payload: { ...packPayload(task), error: described },
      });
      await record();
      throw answer.error;
    }
    passed.push({ index: task.index, expectStatus: [TaskStatus.APPLIED], patch: { status: TaskStatus.VERIFIED, updatedAt: deps.clock().toISOString() } });
    events.push({ type: 'TaskVerified', taskIndex: task.index, message: `${task.action}: verified`, payload: packPayload(task) });
    verified += 1;
  }
  if (unknown !== undefined) throw unknown;
  if (stopAt !== -1) {
    const task = tasks[stopAt];
    if (events.length > 0) await record();
    throw new VerificationFailed(`task ${task.index} is ${task.status}, not applied`);
  }
  if (events.length > 0) await record();
  return { verified };
}
