import { ResourceLocked } from '../errors.ts';
import { lockableResources } from '../locks/model.ts';
import type { RunDeps } from './deps.ts';
import { packPayload } from './model.ts';
import type { Run, Task } from './model.ts';

/** How long a lock outlives its last renewal; every apply of the run renews it. */
export const LOCK_LEASE_MS = 15 * 60_000;

const resourcesOf = (tasks: readonly Task[]) => lockableResources(tasks.map((task) => task.plan?.resource));

/**
 * Takes (or renews) the locks on every resource the run's plan touches, in one global order so two
 * runs can never deadlock. If another run holds one, this run joins its line (a WaitingForLock event,
 * once) and the workflow retries; locks are held until the run finishes. Returns the fencing tokens.
 */
export async function acquireRunLocks(deps: RunDeps, run: Run, task: Task, tasks: readonly Task[]): Promise<Record<string, number>> {
  const tokens: Record<string, number> = {};
  for (const resource of resourcesOf(tasks)) {
    const result = await deps.locks.acquire({ resource, runId: run.id, taskIndex: task.index, leaseMs: LOCK_LEASE_MS, now: deps.clock() });
    if (!result.acquired) {
      const holder = result.holder ? `run ${result.holder.runId}` : 'runs ahead in line';
      if (result.newlyQueued) {
        await deps.runs.commit(run.id, {
          events: [
            {
              type: 'WaitingForLock',
              level: 'WARN',
              taskIndex: task.index,
              message: `waiting for ${resource}, held by ${holder}; number ${result.position} in line`,
              payload: { ...packPayload(task), resource, holder: result.holder, position: result.position },
            },
          ],
        });
      }
      throw new ResourceLocked(`${resource} is held by ${holder}; run ${run.id} is number ${result.position} in line`, { details: { resource } });
    }
    tokens[resource] = result.fencingToken;
  }
  return tokens;
}

/** Releases every lock of the run and takes it out of every line (finish, cancel). */
export function releaseRunLocks(deps: RunDeps, run: Run, tasks: readonly Task[]): Promise<void> {
  return deps.locks.release(resourcesOf(tasks), run.id);
}
