import { InvalidRunTransition } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { RunStatus } from './model.ts';
import type { RunMode } from './model.ts';

export interface Admission {
  mode: RunMode;
  taskIndexes: number[];
}

/** Takes a PENDING run into planning. A replay (the run is already past admission) admits again harmlessly. */
export async function admitRun(deps: RunDeps, runId: string): Promise<Admission> {
  const { run, tasks } = await loadRun(deps, runId);
  assertNotCancelled(run);
  const admission = { mode: run.mode, taskIndexes: tasks.map((task) => task.index) };
  if (run.status !== RunStatus.PENDING) {
    if (run.finishedAt) throw new InvalidRunTransition(`run ${runId} already finished ${run.status}`);
    return admission;
  }
  await deps.runs.commit(runId, {
    expectStatus: [RunStatus.PENDING],
    run: { status: RunStatus.PLANNING, startedAt: deps.clock().toISOString() },
    events: [{ type: 'RunAdmitted', message: `run admitted: ${tasks.length} task(s), mode ${run.mode}` }],
  });
  return admission;
}
