import { VerificationFailed, describeError } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { RunStatus, TaskStatus, packPayload } from './model.ts';
import { onTargets } from './on-targets.ts';

/** Checks, task by task, that what was applied reads back as planned. */
export async function verifyRun(deps: RunDeps, runId: string): Promise<{ verified: number }> {
  const { run, tasks } = await loadRun(deps, runId);
  assertNotCancelled(run);
  if (run.status === RunStatus.APPLYING) {
    await deps.runs.commit(runId, {
      expectStatus: [RunStatus.APPLYING],
      run: { status: RunStatus.VERIFYING },
      events: [{ type: 'RunVerifying', message: 'verifying what was applied' }],
    });
  } else if (run.status !== RunStatus.VERIFYING) {
    throw new VerificationFailed(`run ${runId} is ${run.status}; nothing was applied to verify`);
  }

  let verified = 0;
  for (const task of tasks) {
    if (task.status === TaskStatus.VERIFIED) {
      verified += 1;
      continue;
    }
    if (task.status !== TaskStatus.APPLIED || !task.plan) throw new VerificationFailed(`task ${task.index} is ${task.status}, not applied`);
    const action = deps.catalog.get(task.action, task.actionVersion);
    try {
      await onTargets(deps, run, task, action, 'verify', { plan: task.plan, outcome: task.outcome ?? {} });
    } catch (error) {
      const described = describeError(error);
      await deps.runs.commit(runId, {
        events: [
          {
            type: 'TaskVerificationFailed',
            level: 'ERROR',
            taskIndex: task.index,
            message: `${task.action}: ${described.message}`,
            payload: { ...packPayload(task), error: described },
          },
        ],
      });
      throw error;
    }
    await deps.runs.commit(runId, {
      tasks: [{ index: task.index, expectStatus: [TaskStatus.APPLIED], patch: { status: TaskStatus.VERIFIED, updatedAt: deps.clock().toISOString() } }],
      events: [{ type: 'TaskVerified', taskIndex: task.index, message: `${task.action}: verified`, payload: packPayload(task) }],
    });
    verified += 1;
  }
  return { verified };
}
