import { ResourceLocked } from '../errors.ts';
import { lockableResources } from '../locks/model.ts';
import type { PreparedLocks } from '../locks/model.ts';
import type { RunDeps } from './deps.ts';
import { packPayload } from './model.ts';
import type { Run, Task } from './model.ts';
import type { RunChange } from './ports.ts';

/** How long a lock outlives its last renewal; every apply of the run renews it. */
export const LOCK_LEASE_MS = 15 * 60_000;

export const resourcesOf = (tasks: readonly Pick<Task, 'plan'>[]) => lockableResources(tasks.map((task) => task.plan?.resource));

/**
 * The run's locks as its last apply recorded them, if they cover `resources` and have at least half
 * their lease left: a later task of the run then takes nothing (its claim still checks its fence).
 */
export function heldRunLocks(run: Run, resources: readonly string[], now: Date): Record<string, number> | undefined {
  const held = run.locks;
  if (!held || held.leaseExpiresAt - now.getTime() < LOCK_LEASE_MS / 2) return undefined;
  if (!resources.every((resource) => Object.hasOwn(held.tokens, resource))) return undefined;
  return Object.fromEntries(resources.map((resource) => [resource, held.tokens[resource]]));
}

/** The run's locks as its last apply recorded them, when they are all it locks and fit in the finishing commit. */
export function locksToReleaseInCommit(run: Run, tasks: readonly Task[]): RunChange['releaseLocks'] {
  const tokens = run.locks?.tokens;
  const resources = resourcesOf(tasks);
  if (run.mode !== 'APPLY' || !tokens || resources.length === 0 || resources.length > MAX_LOCKS_IN_CLAIM) return undefined;
  if (Object.keys(tokens).length !== resources.length || !resources.every((resource) => Object.hasOwn(tokens, resource))) return undefined;
  return { runId: run.id, tokens };
}

/**
 * Takes (or renews) the locks on every resource the run's plan touches, in one global order so two
 * runs can never deadlock. If another run holds one, this run joins its line (a WaitingForLock event,
 * once) and the workflow retries; locks are held until the run finishes. Returns the fencing tokens.
 */
export async function acquireRunLocks(
  deps: RunDeps,
  run: Run,
  task: Task,
  resources: readonly string[],
  options: { oneByOne?: boolean } = {},
): Promise<Record<string, number>> {
  const all = options.oneByOne
    ? undefined
    : await deps.locks.acquireAll?.({ resources, runId: run.id, taskIndex: task.index, leaseMs: LOCK_LEASE_MS, now: deps.clock() });
  if (all) return all;
  const tokens: Record<string, number> = {};
  for (const resource of resources) {
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

/** The most locks an apply takes in its claim's transaction (with the run, the task, its events and checks, under 100 items). */
export const MAX_LOCKS_IN_CLAIM = 25;

/**
 * The run's locks, read and prepared to be taken in the claim's transaction (one write fewer; at most
 * MAX_LOCKS_IN_CLAIM), when none needs the line. Undefined when one does: the caller takes them with
 * {@link acquireRunLocks}.
 */
export async function prepareRunLocks(deps: RunDeps, run: Run, task: Task, resources: readonly string[]): Promise<PreparedLocks | undefined> {
  if (!deps.locks.prepareAll) return undefined;
  return deps.locks.prepareAll({ resources, runId: run.id, taskIndex: task.index, leaseMs: LOCK_LEASE_MS, now: deps.clock() });
}

/**
 * Releases every lock of the run and takes it out of every line (finish, cancel). A PLAN run never
 * applies, so it never took a lock nor joined a line: it has nothing to release.
 */
export async function releaseRunLocks(deps: RunDeps, run: Run, tasks: readonly Task[]): Promise<void> {
  if (run.mode === 'PLAN') return;
  await deps.locks.release(resourcesOf(tasks), run.id);
}
