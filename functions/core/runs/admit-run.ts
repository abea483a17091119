import { InvalidRunTransition } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { RunStatus } from './model.ts';
import type { Run, RunMode } from './model.ts';

/**
 * Which function applies a task: `internet` (the egress path in AWS) for actions that reach the
 * internet, `internal` (isolated subnets, the managed targets' grants) for the rest.
 */
export type ActionClass = 'internal' | 'internet';

export interface Admission {
  mode: RunMode;
  /** The tasks in order, each with the class of function that applies it (the Apply map routes on it). */
  tasks: { taskIndex: number; actionClass: ActionClass }[];
}

/**
 * Takes a PENDING run into planning. A replay (the run is already past admission) admits again
 * harmlessly. `observer` hears the run's status before and after, and the head committed (what the host would otherwise read again).
 */
export async function admitRun(
  deps: RunDeps,
  runId: string,
  observer?: { status(before: string, after: string): void; committed(head: Run): void },
): Promise<Admission> {
  const { run, tasks } = await loadRun(deps, runId);
  assertNotCancelled(run);
  const admission: Admission = {
    mode: run.mode,
    tasks: tasks.map((task) => ({
      taskIndex: task.index,
      actionClass: deps.catalog.get(task.action, task.actionVersion).safety.budgets.network === 'internet' ? 'internet' : 'internal',
    })),
  };
  if (run.status !== RunStatus.PENDING) {
    if (run.finishedAt) throw new InvalidRunTransition(`run ${runId} already finished ${run.status}`);
    observer?.status(run.status, run.status);
    return admission;
  }
  const head = await deps.runs.commit(runId, {
    head: run,
    expectStatus: [RunStatus.PENDING],
    run: { status: RunStatus.PLANNING, startedAt: deps.clock().toISOString() },
    events: [{ type: 'RunAdmitted', message: `run admitted: ${tasks.length} task(s), mode ${run.mode}` }],
  });
  observer?.status(run.status, head.status);
  observer?.committed(head);
  return admission;
}
