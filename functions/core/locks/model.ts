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

/**
 * Locks a run may take in the transaction of another write (the apply's claim), prepared from what the
 * lock store read: each is conditional on its lock being exactly as read, so the write takes all of
 * them or none (then refused as ConcurrentModification with `details.changed` `locks`).
 */
export interface PreparedLocks {
  /** The fencing token each resource will have once taken. */
  readonly tokens: Readonly<Record<string, number>>;
  readonly holder: { readonly runId: string; readonly taskIndex: number; readonly leaseExpiresAt: number; readonly acquiredAt: string };
  readonly writes: readonly LockWrite[];
}

/** One lock of {@link PreparedLocks}: renewed (the run holds it with this token) or taken from the token read (none: never taken). */
export type LockWrite =
  | { readonly kind: 'renew'; readonly resource: string; readonly fencingToken: number }
  | {
      readonly kind: 'take';
      readonly resource: string;
      readonly fencingToken: number;
      readonly previousToken?: number;
      /** Nobody may have joined its line since (epoch ms). */
      readonly quietSince: number;
      readonly lastWaitAt?: number;
    };

/** A lock item as read: its fencing token (0 before any take), its holder if any, and the line's note. */
export interface LockState {
  fencingToken: number;
  runId?: string;
  leaseExpiresAt?: number;
  /** When a run last joined or refreshed its place in this lock's line (epoch ms): while it is recent, takes go through the line. */
  lastWaitAt?: number;
}

/** A waiter that has not asked again for this long is taken to be gone (its run crashed or ended). */
export const LOCK_WAITER_STALE_MS = 120_000;

/**
 * The takes (or renewals) of every one of `resources` from their locks as read (`states`, in the same
 * order; undefined: never taken), when that is plainly possible: none is held by another run and
 * nobody has queued for any within the waiters' staleness window. Undefined when any lock needs the line.
 */
export function prepareLocks(
  states: readonly (LockState | undefined)[],
  input: { resources: readonly string[]; runId: string; taskIndex: number; leaseMs: number; now: Date },
): PreparedLocks | undefined {
  const { resources, runId, now } = input;
  const nowMs = now.getTime();
  const holder = { runId, taskIndex: input.taskIndex, leaseExpiresAt: nowMs + input.leaseMs, acquiredAt: now.toISOString() };
  const cutoff = nowMs - LOCK_WAITER_STALE_MS;
  const tokens: Record<string, number> = {};
  const writes: LockWrite[] = [];
  for (const [i, resource] of resources.entries()) {
    const lock = states[i];
    const holderLive = lock?.runId !== undefined && (lock.leaseExpiresAt ?? 0) > nowMs;
    if (holderLive && lock!.runId === runId) {
      tokens[resource] = lock!.fencingToken;
      writes.push({ kind: 'renew', resource, fencingToken: lock!.fencingToken });
      continue;
    }
    if (holderLive || (lock?.lastWaitAt ?? 0) >= cutoff) return undefined;
    // Unchanged since read: same token, and still nobody queued (a waiter sets lastWaitAt to its now).
    const fencingToken = (lock?.fencingToken ?? 0) + 1;
    tokens[resource] = fencingToken;
    writes.push({
      kind: 'take',
      resource,
      fencingToken,
      quietSince: cutoff,
      ...(lock ? { previousToken: lock.fencingToken } : {}),
      ...(lock?.lastWaitAt !== undefined ? { lastWaitAt: lock.lastWaitAt } : {}),
    });
  }
  return { tokens, holder, writes };
}

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
  /**
   * What {@link acquireAll} would write, without writing it: for a caller that writes the takes in a
   * transaction of its own. Undefined when any lock needs the line.
   */
  prepareAll?(input: { resources: readonly string[]; runId: string; taskIndex: number; leaseMs: number; now: Date }): Promise<PreparedLocks | undefined>;
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
