import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, QueryCommand, TransactGetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { LeaseLost } from '../core/errors.ts';
import { LOCK_WAITER_STALE_MS, prepareLocks } from '../core/locks/model.ts';
import type { AcquireResult, LockHolder, LockState, LockStore, LockView, PreparedLocks } from '../core/locks/model.ts';
import { rethrowAwsError } from './aws-errors.ts';
import { queryAllPages } from './query-all-pages.ts';

const lockPk = (resource: string) => `LOCK#${resource}`;
const LOCK_SK = 'LOCK';
/** The key of a resource's lock item (the run repository's fencing check reads it in the claim transaction). */
export const lockKey = (resource: string) => ({ pk: lockPk(resource), sk: LOCK_SK });
/** A lock item as the core decides on it (core/locks/model.ts prepareLocks). */
export const lockState = (item: Record<string, unknown> | undefined): LockState | undefined =>
  item === undefined
    ? undefined
    : {
        fencingToken: Number(item.fencingToken ?? 0),
        ...(item.runId !== undefined ? { runId: String(item.runId) } : {}),
        ...(item.leaseExpiresAt !== undefined ? { leaseExpiresAt: Number(item.leaseExpiresAt) } : {}),
        ...(item.lastWaitAt !== undefined ? { lastWaitAt: Number(item.lastWaitAt) } : {}),
      };
const waiterSk = (enqueuedAt: number, runId: string) => `WAIT#${String(enqueuedAt).padStart(15, '0')}#${runId}`;

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

interface StoredLock extends Partial<LockHolder> {
  fencingToken: number;
  /** When a run last joined or refreshed its place in this lock's line (epoch ms): while it is recent, takes go through the line. */
  lastWaitAt?: number;
}

/** The lock item of a holder, keeping the line's note (`lastWaitAt`) as it was read. */
function lockItem(resource: string, holder: PreparedLocks['holder'], fencingToken: number, lastWaitAt: number | undefined) {
  return {
    ...lockKey(resource),
    entity: 'Lock',
    gsi1pk: 'LOCKS',
    gsi1sk: `${resource}#LOCK`,
    resource,
    runId: holder.runId,
    taskIndex: holder.taskIndex,
    leaseExpiresAt: holder.leaseExpiresAt,
    acquiredAt: holder.acquiredAt,
    fencingToken,
    ...(lastWaitAt !== undefined ? { lastWaitAt } : {}),
  };
}

/**
 * The transaction items of prepared locks (the lock store's own `acquireAll`, or the run repository's
 * claim): each conditional on its lock as read, and a take also on nobody having joined its line since.
 */
export function lockWriteItems(table: string, prepared: PreparedLocks): TransactItem[] {
  const { holder } = prepared;
  return prepared.writes.map((write): TransactItem => {
    if (write.kind === 'renew') return { Update: renewUpdate(table, write.resource, holder, write.fencingToken) };
    const item = lockItem(write.resource, holder, write.fencingToken, write.lastWaitAt);
    if (write.previousToken === undefined) return { Put: { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } };
    return {
      Put: {
        TableName: table,
        Item: item,
        ConditionExpression: 'fencingToken = :previous AND (attribute_not_exists(lastWaitAt) OR lastWaitAt < :cutoff)',
        ExpressionAttributeValues: { ':previous': write.previousToken, ':cutoff': write.quietSince },
      },
    };
  });
}

/** The update that renews a run's lock on `resource` while the run holds it with this fencing token. */
function renewUpdate(table: string, resource: string, holder: { runId: string; taskIndex: number; leaseExpiresAt: number }, fencingToken: number) {
  return {
    TableName: table,
    Key: lockKey(resource),
    UpdateExpression: 'SET leaseExpiresAt = :lease, taskIndex = :task',
    ConditionExpression: 'runId = :run AND fencingToken = :token',
    ExpressionAttributeValues: { ':lease': holder.leaseExpiresAt, ':task': holder.taskIndex, ':run': holder.runId, ':token': fencingToken },
  };
}

/**
 * The update that gives up a run's lock on `resource` while the run holds it (with this fencing token,
 * when one is given): the lock item and its token counter stay.
 */
function releaseUpdate(table: string, resource: string, runId: string, fencingToken?: number) {
  return {
    TableName: table,
    Key: lockKey(resource),
    UpdateExpression: 'REMOVE runId, taskIndex, leaseExpiresAt, acquiredAt',
    ConditionExpression: fencingToken === undefined ? 'runId = :run' : 'runId = :run AND fencingToken = :token',
    ExpressionAttributeValues: fencingToken === undefined ? { ':run': runId } : { ':run': runId, ':token': fencingToken },
  };
}

/** The updates that give up a run's locks while it holds each with its token (the run repository's finishing commit). */
export function lockReleaseItems(table: string, release: { runId: string; tokens: Readonly<Record<string, number>> }): TransactItem[] {
  return Object.entries(release.tokens).map(([resource, fencingToken]) => ({ Update: releaseUpdate(table, resource, release.runId, fencingToken) }));
}

/**
 * Locks and their queues in the state table: `pk = LOCK#resource`, `sk = LOCK` for the lock (the
 * fencing token counter survives releases), `sk = WAIT#time#runId` for each waiter; both are also
 * in `gsi1` under `LOCKS` for GET /locks. Every take is a conditional write on the fencing token.
 */
export class DynamoLockStore implements LockStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
  }

  async acquire(input: { resource: string; runId: string; taskIndex: number; leaseMs: number; now: Date }): Promise<AcquireResult> {
    const { resource, runId, now } = input;
    const nowMs = now.getTime();
    const { lock, waiters } = await this.#read(resource);
    const holderLive = lock?.runId !== undefined && (lock.leaseExpiresAt ?? 0) > nowMs;
    const leaseExpiresAt = nowMs + input.leaseMs;

    if (lock?.runId === runId && holderLive) {
      await this.#write(() =>
        this.#db.send(new UpdateCommand(renewUpdate(this.#table, resource, { runId, taskIndex: input.taskIndex, leaseExpiresAt }, lock.fencingToken))),
      );
      return { acquired: true, fencingToken: lock.fencingToken };
    }

    const liveWaiters = waiters.filter((waiter) => nowMs - waiter.refreshedAt < LOCK_WAITER_STALE_MS);
    const mine = waiters.find((waiter) => waiter.runId === runId);
    const first = liveWaiters[0];
    if (holderLive || (first && first.runId !== runId)) {
      const newlyQueued = !mine;
      await this.#enqueue(resource, runId, mine?.enqueuedAt ?? nowMs, nowMs);
      const position = mine ? liveWaiters.findIndex((waiter) => waiter.runId === runId) + 1 : liveWaiters.length + 1;
      return { acquired: false, holder: holderLive ? { runId: lock!.runId!, taskIndex: lock!.taskIndex ?? 0 } : undefined, position, newlyQueued };
    }

    const { take, fencingToken } = this.#take(lock, { resource, runId, taskIndex: input.taskIndex, leaseExpiresAt, now });
    try {
      await this.#db.send(
        new TransactWriteCommand({
          TransactItems: [take, ...(mine ? [{ Delete: { TableName: this.#table, Key: { pk: lockPk(resource), sk: waiterSk(mine.enqueuedAt, runId) } } }] : [])],
        }),
      );
      return { acquired: true, fencingToken };
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        // Another run took it between our read and our write: queue behind it.
        await this.#enqueue(resource, runId, mine?.enqueuedAt ?? nowMs, nowMs);
        return { acquired: false, position: liveWaiters.length + 1, newlyQueued: !mine };
      }
      return rethrowAwsError(error, `locking ${resource}`);
    }
  }

  /**
   * Takes (or renews) every one of `resources` in one transaction, when that is plainly possible: none
   * is held by another run and nobody has queued for any within the waiters' staleness window. Returns
   * the fencing tokens, or undefined (nothing taken) when any lock needs the line: the caller then takes
   * them one by one with {@link acquire}, which queues fairly.
   */
  async acquireAll(input: {
    resources: readonly string[];
    runId: string;
    taskIndex: number;
    leaseMs: number;
    now: Date;
  }): Promise<Record<string, number> | undefined> {
    const prepared = await this.prepareAll(input);
    if (!prepared || prepared.writes.length === 0) return prepared?.tokens;
    try {
      await this.#db.send(new TransactWriteCommand({ TransactItems: lockWriteItems(this.#table, prepared) }));
      return prepared.tokens;
    } catch (error) {
      if (error instanceof TransactionCanceledException) return undefined;
      return rethrowAwsError(error, 'locking resources');
    }
  }

  /** What {@link acquireAll} would write (read in one `TransactGetItems`), for a caller's own transaction. */
  async prepareAll(input: { resources: readonly string[]; runId: string; taskIndex: number; leaseMs: number; now: Date }): Promise<PreparedLocks | undefined> {
    if (input.resources.length > 100) return undefined;
    if (input.resources.length === 0) return prepareLocks([], input);
    let locks: (Record<string, unknown> | undefined)[];
    try {
      const read = await this.#db.send(
        new TransactGetCommand({ TransactItems: input.resources.map((resource) => ({ Get: { TableName: this.#table, Key: lockKey(resource) } })) }),
      );
      locks = (read.Responses ?? []).map((response) => response?.Item);
    } catch (error) {
      return rethrowAwsError(error, 'reading locks');
    }
    return prepareLocks(locks.map(lockState), input);
  }

  /**
   * The Put that takes `resource` for a run with the next fencing token, conditional on the lock being
   * as read (no item, or the same token), for {@link acquire}: it has read the line itself.
   */
  #take(
    lock: StoredLock | undefined,
    holder: { resource: string; runId: string; taskIndex: number; leaseExpiresAt: number; now: Date },
  ): { take: { Put: NonNullable<TransactItem['Put']> }; fencingToken: number } {
    const fencingToken = (lock?.fencingToken ?? 0) + 1;
    const { resource, now, ...held } = holder;
    return {
      fencingToken,
      take: {
        Put: {
          TableName: this.#table,
          Item: lockItem(resource, { ...held, acquiredAt: now.toISOString() }, fencingToken, lock?.lastWaitAt),
          ConditionExpression: lock ? 'fencingToken = :previous' : 'attribute_not_exists(pk)',
          ExpressionAttributeValues: lock ? { ':previous': lock.fencingToken } : undefined,
        },
      },
    };
  }

  async assertHeld(input: { resource: string; runId: string; fencingToken: number; now: Date }): Promise<void> {
    const { lock } = await this.#read(input.resource);
    if (!lock || lock.runId !== input.runId || lock.fencingToken !== input.fencingToken || (lock.leaseExpiresAt ?? 0) <= input.now.getTime()) {
      throw new LeaseLost(
        `run ${input.runId} no longer holds ${input.resource} (fencing token ${input.fencingToken}, current ${lock?.fencingToken ?? 'none'})`,
      );
    }
  }

  async release(resources: readonly string[], runId: string): Promise<void> {
    // The common case in one transaction: the run holds every one (so it waits in no line of them).
    if (resources.length > 0 && resources.length <= 100) {
      try {
        await this.#db.send(
          new TransactWriteCommand({ TransactItems: resources.map((resource) => ({ Update: releaseUpdate(this.#table, resource, runId) })) }),
        );
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) rethrowAwsError(error, 'releasing locks');
      }
    }
    for (const resource of resources) {
      const { waiters } = await this.#read(resource);
      try {
        await this.#db.send(new UpdateCommand(releaseUpdate(this.#table, resource, runId)));
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) rethrowAwsError(error, `releasing ${resource}`);
      }
      for (const waiter of waiters.filter((candidate) => candidate.runId === runId)) {
        await this.#write(() =>
          this.#db.send(new DeleteCommand({ TableName: this.#table, Key: { pk: lockPk(resource), sk: waiterSk(waiter.enqueuedAt, runId) } })),
        );
      }
    }
  }

  async list(): Promise<LockView[]> {
    const items = await queryAllPages(
      this.#db,
      { TableName: this.#table, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :locks', ExpressionAttributeValues: { ':locks': 'LOCKS' } },
      'listing locks',
    );
    const now = Date.now();
    const views = new Map<string, LockView>();
    for (const item of items) {
      const resource = String(item.resource);
      const view = views.get(resource) ?? { resource, waiters: [] };
      if (item.sk === LOCK_SK) {
        if (item.runId && Number(item.leaseExpiresAt) > now) {
          view.holder = {
            runId: String(item.runId),
            taskIndex: Number(item.taskIndex),
            leaseExpiresAt: Number(item.leaseExpiresAt),
            fencingToken: Number(item.fencingToken),
            acquiredAt: String(item.acquiredAt),
          };
        }
      } else if (now - Number(item.refreshedAt) < LOCK_WAITER_STALE_MS) {
        view.waiters.push({ runId: String(item.runId), enqueuedAt: new Date(Number(item.enqueuedAt)).toISOString() });
      }
      views.set(resource, view);
    }
    return [...views.values()].filter((view) => view.holder || view.waiters.length > 0);
  }

  async #read(resource: string) {
    try {
      const page = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': lockPk(resource) },
          ConsistentRead: true,
        }),
      );
      const items = page.Items ?? [];
      const lock = items.find((item) => item.sk === LOCK_SK) as StoredLock | undefined;
      const waiters = items
        .filter((item) => String(item.sk).startsWith('WAIT#'))
        .map((item) => ({ runId: String(item.runId), enqueuedAt: Number(item.enqueuedAt), refreshedAt: Number(item.refreshedAt) }))
        .sort((a, b) => a.enqueuedAt - b.enqueuedAt);
      return { lock, waiters };
    } catch (error) {
      return rethrowAwsError(error, `reading the lock on ${resource}`);
    }
  }

  async #enqueue(resource: string, runId: string, enqueuedAt: number, now: number): Promise<void> {
    // The waiter, and the lock's note that someone is in line (acquireAll then leaves the lock to the line).
    await this.#write(() =>
      this.#db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.#table,
                Key: lockKey(resource),
                UpdateExpression: 'SET lastWaitAt = :now, fencingToken = if_not_exists(fencingToken, :zero)',
                ExpressionAttributeValues: { ':now': now, ':zero': 0 },
              },
            },
            {
              Put: {
                TableName: this.#table,
                Item: {
                  pk: lockPk(resource),
                  sk: waiterSk(enqueuedAt, runId),
                  entity: 'LockWaiter',
                  gsi1pk: 'LOCKS',
                  gsi1sk: `${resource}#WAIT#${String(enqueuedAt).padStart(15, '0')}`,
                  resource,
                  runId,
                  enqueuedAt,
                  refreshedAt: now,
                  expiresAt: Math.floor(now / 1000) + 86_400,
                },
              },
            },
          ],
        }),
      ),
    );
  }

  async #write(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new LeaseLost('the lock changed hands while it was being renewed', { cause: error });
      rethrowAwsError(error, 'writing a lock');
    }
  }
}
