import { RunCancelled, RunNotFound } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { RunStatus } from './model.ts';
import type { Run, Task } from './model.ts';
import type { ControlState } from '../control/model.ts';
import type { QuiesceFlag } from '../dr/ports.ts';
import { readControl } from '../safety/gates.ts';
import { resourcesOf } from './run-locks.ts';

export async function loadRun(deps: RunDeps, runId: string): Promise<{ run: Run; tasks: Task[] }> {
  const found = await deps.runs.getWithTasks(runId);
  if (!found) throw new RunNotFound(`run ${runId} does not exist`, { field: 'runId' });
  return found;
}

/** Every workflow step stops at a cancelled run: the cancel wins over whatever was about to happen. */
export function assertNotCancelled(run: Run): void {
  if (run.status === RunStatus.CANCELLED) throw new RunCancelled(`run ${run.id} was cancelled`);
  if (run.cancelRequested) throw new RunCancelled(`run ${run.id} was cancelled by ${run.cancelRequested.by}; rolling back what it applied`);
}

/**
 * What an apply decides on: the run, its task, the control record (no cache), the resources the plan
 * locks and, where the store reads them together, the DR quiesce flags; one round trip when the run
 * recorded its lock resources with its plan, else the run with all its tasks and the control record.
 */
export async function loadForApply(
  deps: RunDeps,
  runId: string,
  taskIndex: number,
): Promise<{ run: Run; task: Task | undefined; control: ControlState; quiesceFlags?: QuiesceFlag[]; lockResources: string[] }> {
  const initialControl = { killSwitch: { engaged: deps.guardrails.killSwitch.engaged } };
  const snapshot = await deps.applyReads?.read({ runId, taskIndex, initialControl });
  if (snapshot?.run.lockResources) return { ...snapshot, lockResources: snapshot.run.lockResources };
  const { run, tasks } = await loadRun(deps, runId);
  return {
    run,
    task: tasks.find((candidate) => candidate.index === taskIndex),
    control: snapshot?.control ?? (await readControl(deps)),
    quiesceFlags: snapshot?.quiesceFlags,
    lockResources: resourcesOf(tasks),
  };
}
