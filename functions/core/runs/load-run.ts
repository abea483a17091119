import { RunCancelled, RunNotFound } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { RunStatus } from './model.ts';
import type { Run, Task } from './model.ts';

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
