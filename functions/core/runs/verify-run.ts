import { VerificationFailed, describeError } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { RunStatus, TaskStatus, packPayload } from './model.ts';
import type { EventDraft } from './model.ts';
import type { TaskChange } from './ports.ts';
import { onTargets } from './on-targets.ts';

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

  let verified = 0;
  for (const task of tasks) {
    if (task.status === TaskStatus.VERIFIED) {
      verified += 1;
      continue;
    }
    if (task.status !== TaskStatus.APPLIED || !task.plan) {
      if (events.length > 0) await record();
      throw new VerificationFailed(`task ${task.index} is ${task.status}, not applied`);
    }
    const action = deps.catalog.get(task.action, task.actionVersion);
    try {
      await onTargets(deps, run, task, action, 'verify', { plan: task.plan, outcome: task.outcome ?? {} });
    } catch (error) {
      const described = describeError(error);
      events.push({
        type: 'TaskVerificationFailed',
        level: 'ERROR',
        taskIndex: task.index,
        message: `${task.action}: ${described.message}`,
        payload: { ...packPayload(task), error: described },
      });
      await record();
      throw error;
    }
    passed.push({ index: task.index, expectStatus: [TaskStatus.APPLIED], patch: { status: TaskStatus.VERIFIED, updatedAt: deps.clock().toISOString() } });
    events.push({ type: 'TaskVerified', taskIndex: task.index, message: `${task.action}: verified`, payload: packPayload(task) });
    verified += 1;
  }
  if (events.length > 0) await record();
  return { verified };
}
