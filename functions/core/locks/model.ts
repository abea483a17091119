/** Advisory locks per resource: two runs that touch one resource apply one after the other. */

export interface LockHolder {
  runId: string;
  taskIndex: number;
  /** Epoch milliseconds; a lock past its lease is free to take (an abandoned run cannot block forever). */
  leaseExpiresAt: number;
  /** Grows by one with every new holder: a holder whose token is no longer current has lost the lock. */
  fencingToken: number;
  acquiredAt: string;
}

export interface LockView {
  resource: string;
  holder?: LockHolder;
  /** Runs waiting for the resource, first come first served. */
  waiters: { runId: string; enqueuedAt: string }[];
}

export type AcquireResult =
  | { acquired: true; fencingToken: number }
  | { acquired: false; holder?: { runId: string; taskIndex: number }; position: number; newlyQueued: boolean };

export interface LockStore {
  /** Takes (or renews) the lock for the run, or queues the run behind the holder and earlier waiters. */
  acquire(input: { resource: string; runId: string; taskIndex: number; leaseMs: number; now: Date }): Promise<AcquireResult>;
  /**
   * Takes (or renews) all of `resources` at once when none needs the line (no other holder, nobody
   * queued); undefined when any does, having taken nothing: then {@link acquire} each, in order.
   */
  acquireAll?(input: {
    resources: readonly string[];
    runId: string;
    taskIndex: number;
    leaseMs: number;
    now: Date;
  }): Promise<Record<string, number> | undefined>;
  /** Refuses with LeaseLost unless the run still holds the lock with this fencing token, within its lease. */
  assertHeld(input: { resource: string; runId: string; fencingToken: number; now: Date }): Promise<void>;
  /** Releases the run's locks on these resources and takes it out of their queues. */
  release(resources: readonly string[], runId: string): Promise<void>;
  list(): Promise<LockView[]>;
}

/** The resources a run's tasks lock, in the one global order that prevents deadlocks. */
export function lockableResources(resources: readonly (string | undefined)[]): string[] {
  return [...new Set(resources.filter((resource): resource is string => !!resource && !resource.startsWith('noop:')))].sort();
}
