import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModification, DuplicateInFlight, InvalidRunTransition, LeaseLost, RunNotFound, TransientError } from '../core/errors.ts';
import { GENESIS_HASH, sealEvents } from '../core/runs/journal.ts';
import type { Run, RunEvent, Task } from '../core/runs/model.ts';
import type { CreateRunResult, NewRun, Page, RunChange, RunRepository } from '../core/runs/ports.ts';
import { CONTROL_KEY, quiesceKey } from './dynamo-gate-keys.ts';
import { rethrowAwsError } from './aws-errors.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';
import { queryAllPages, queryPages } from './query-all-pages.ts';
import { lockKey, lockReleaseItems, lockWriteItems } from './dynamo-lock-store.ts';
import { outboxItemsOf } from './outbox-items.ts';

/** Attempts at a commit when other writers keep appending to the same run first. */
const MAX_COMMIT_ATTEMPTS = 10;
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

const pad = (value: number, width: number) => String(value).padStart(width, '0');
const runPk = (runId: string) => `RUN#${runId}`;
export const runKey = (runId: string) => ({ pk: runPk(runId), sk: 'RUN' });
export const taskKey = (runId: string, index: number) => ({ pk: runPk(runId), sk: `TASK#${pad(index, 4)}` });
const eventKey = (runId: string, seq: number) => ({ pk: runPk(runId), sk: `EVENT#${pad(seq, 10)}` });
const activeKey = (runId: string) => ({ pk: 'ACTIVE', sk: runId });
const idempotencyKey = (key: string) => ({ pk: `IDEMPOTENCY#${key}`, sk: 'IDEMPOTENCY' });

const STORAGE_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'entity', 'expiresAt'];
export function fromItem<T>(item: Record<string, unknown>): T {
  const copy = { ...item };
  for (const attribute of STORAGE_ATTRIBUTES) delete copy[attribute];
  return copy as T;
}

const runItem = (run: Run) => ({ ...runKey(run.id), entity: 'Run', gsi1pk: 'RUNS', gsi1sk: `${run.createdAt}#${run.id}`, ...run });
const taskItem = (task: Task) => ({ ...taskKey(task.runId, task.index), entity: 'Task', ...task });
const eventItem = (event: RunEvent) => ({ ...eventKey(event.runId, event.seq), entity: 'Event', ...event });

/**
 * Runs, tasks and events in one DynamoDB table (`pk = RUN#id`; `sk` = `RUN`, `TASK#nnnn`,
 * `EVENT#nnnnnnnnnn`). Every change is one transaction: the run's head (`eventSeq`, guarded by a
 * condition), the task updates, the new events and their outbox row (`OUTBOX#runId`, the events'
 * messages; see outbox-items.ts), so state, its audit trail and its announcements never disagree.
 */
export class DynamoRunRepository implements RunRepository {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: () => Date;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string; clock?: () => Date }) {
    this.#db = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? (() => new Date());
  }

  async create(newRun: NewRun): Promise<CreateRunResult> {
    const now = this.#clock();
    const events = sealEvents({ ...newRun.run, lastEventHash: GENESIS_HASH, eventSeq: 0 }, newRun.events, now);
    const run: Run = { ...newRun.run, eventSeq: events.length, lastEventHash: events.at(-1)?.hash ?? GENESIS_HASH };
    const items = [
      { Put: { TableName: this.#table, Item: runItem(run), ConditionExpression: 'attribute_not_exists(pk)' } },
      ...newRun.tasks.map((task) => ({ Put: { TableName: this.#table, Item: taskItem(task), ConditionExpression: 'attribute_not_exists(pk)' } })),
      ...events.map((event) => ({ Put: { TableName: this.#table, Item: eventItem(event), ConditionExpression: 'attribute_not_exists(pk)' } })),
      // The outbox: one announcement per event, in the same transaction (the relay delivers them).
      ...outboxItemsOf(events, now).map((row) => ({ Put: { TableName: this.#table, Item: row, ConditionExpression: 'attribute_not_exists(pk)' } })),
      { Put: { TableName: this.#table, Item: { ...activeKey(run.id), entity: 'ActiveRun', since: run.createdAt } } },
    ];
    const idempotency = newRun.idempotency;
    if (idempotency) {
      items.push({
        Put: {
          TableName: this.#table,
          Item: {
            ...idempotencyKey(idempotency.key),
            entity: 'IdempotencyKey',
            runId: run.id,
            requestHash: idempotency.requestHash,
            createdAt: now.toISOString(),
            expiresAt: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
          } as never,
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    assertTransactionSize(items.length, `recording run ${run.id}`);
    try {
      await this.#db.send(new TransactWriteCommand({ TransactItems: items }));
      return { created: true, run };
    } catch (error) {
      if (idempotency && error instanceof TransactionCanceledException && error.CancellationReasons?.at(-1)?.Code === 'ConditionalCheckFailed') {
        const existing = await this.#get(idempotencyKey(idempotency.key));
        if (existing) return { created: false, runId: String(existing.runId), requestHash: String(existing.requestHash) };
      }
      return rethrowAwsError(error, 'recording the run');
    }
  }

  async renewTaskLease(runId: string, taskIndex: number, attempt: number, leaseExpiresAt: number): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: taskKey(runId, taskIndex),
          UpdateExpression: 'SET leaseExpiresAt = :lease',
          ConditionExpression: '#status = :applying AND attempt = :attempt',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':lease': leaseExpiresAt, ':applying': 'APPLYING', ':attempt': attempt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowAwsError(error, `renewing the lease on task ${taskIndex} of run ${runId}`);
    }
  }

  async findByIdempotencyKey(key: string): Promise<{ runId: string; requestHash: string } | undefined> {
    const item = await this.#get(idempotencyKey(key));
    return item ? { runId: String(item.runId), requestHash: String(item.requestHash) } : undefined;
  }

  async get(runId: string): Promise<Run | undefined> {
    const item = await this.#get(runKey(runId));
    return item ? fromItem<Run>(item) : undefined;
  }

  async getWithTasks(runId: string): Promise<{ run: Run; tasks: Task[] } | undefined> {
    // `sk >= 'RUN'` selects the run and its tasks: 'EVENT#…' sorts before 'RUN', 'TASK#…' after.
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk AND sk >= :run',
      ExpressionAttributeValues: { ':pk': runPk(runId), ':run': 'RUN' },
    });
    const runItemFound = items.find((item) => item.sk === 'RUN');
    if (!runItemFound) return undefined;
    const tasks = items.filter((item) => String(item.sk).startsWith('TASK#')).map((item) => fromItem<Task>(item));
    return { run: fromItem<Run>(runItemFound), tasks };
  }

  async commit(runId: string, change: RunChange): Promise<Run> {
    // The caller's head saves the read; it is used once, and a refusal on it is checked again on a fresh read.
    let known = change.head?.id === runId ? change.head : undefined;
    for (let attempt = 1; ; attempt += 1) {
      const fromCaller = known !== undefined;
      const head = known ?? (await this.get(runId));
      known = undefined;
      if (!head) throw new RunNotFound(`run ${runId} does not exist`);
      if (change.expectEventSeq !== undefined && head.eventSeq !== change.expectEventSeq) {
        if (fromCaller) continue;
        throw new ConcurrentModification(`run ${runId} changed since it was read (event ${head.eventSeq}, expected ${change.expectEventSeq})`);
      }
      if (change.expectStatus && !change.expectStatus.includes(head.status)) {
        if (fromCaller) continue;
        throw new InvalidRunTransition(`run ${runId} is ${head.status}; expected ${change.expectStatus.join(' or ')}`);
      }
      const now = this.#clock();
      const events = sealEvents(head, change.events, now);
      const updated: Run = {
        ...head,
        ...change.run,
        updatedAt: now.toISOString(),
        eventSeq: head.eventSeq + events.length,
        lastEventHash: events.at(-1)?.hash ?? head.lastEventHash,
      };
      const runSet = setExpression({ ...change.run, updatedAt: updated.updatedAt, eventSeq: updated.eventSeq, lastEventHash: updated.lastEventHash }, 'r');
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
        {
          Update: {
            TableName: this.#table,
            Key: runKey(runId),
            UpdateExpression: runSet.expression,
            ConditionExpression: '#expectedSeq = :expectedSeq',
            ExpressionAttributeNames: { ...runSet.names, '#expectedSeq': 'eventSeq' },
            ExpressionAttributeValues: { ...runSet.values, ':expectedSeq': head.eventSeq },
          },
        },
      ];
      for (const task of change.tasks ?? []) {
        const taskSet = setExpression(task.patch, 't');
        const statusCondition = task.claim
          ? ' AND (#taskStatus = :planned OR (#taskStatus = :applying AND (attribute_not_exists(leaseExpiresAt) OR leaseExpiresAt < :claimNow)))'
          : task.expectStatus?.length
            ? ` AND #taskStatus IN (${task.expectStatus.map((_, i) => `:expect${i}`).join(', ')})`
            : '';
        items.push({
          Update: {
            TableName: this.#table,
            Key: taskKey(runId, task.index),
            UpdateExpression: taskSet.expression,
            ConditionExpression: `attribute_exists(pk)${statusCondition}`,
            ExpressionAttributeNames: { ...taskSet.names, ...(statusCondition ? { '#taskStatus': 'status' } : {}) },
            ExpressionAttributeValues: {
              ...taskSet.values,
              ...(task.claim
                ? { ':planned': 'PLANNED', ':applying': 'APPLYING', ':claimNow': task.claim.now }
                : Object.fromEntries((task.expectStatus ?? []).map((status, i) => [`:expect${i}`, status]))),
            },
          },
        });
      }
      for (const event of events) {
        items.push({ Put: { TableName: this.#table, Item: eventItem(event), ConditionExpression: 'attribute_not_exists(pk)' } });
      }
      for (const row of outboxItemsOf(events, now)) items.push({ Put: { TableName: this.#table, Item: row, ConditionExpression: 'attribute_not_exists(pk)' } });
      // A run that finishes leaves the active set (admission control counts it), in the same transaction.
      if (change.run?.finishedAt && !head.finishedAt) items.push({ Delete: { TableName: this.#table, Key: activeKey(runId) } });
      // Fencing: the run still holds the lock its write is under, checked in the same transaction (last item).
      const fence = change.fence;
      if (fence) {
        items.push({
          ConditionCheck: {
            TableName: this.#table,
            Key: lockKey(fence.resource),
            ConditionExpression: 'runId = :run AND fencingToken = :token AND leaseExpiresAt > :now',
            ExpressionAttributeValues: { ':run': runId, ':token': fence.fencingToken, ':now': fence.now },
          },
        });
      }
      const fenceAt = fence ? items.length - 1 : -1;
      // Locks taken with the change (the claim), each conditional on the lock as the lock store read it.
      const locksFrom = items.length;
      if (change.takeLocks) items.push(...lockWriteItems(this.#table, change.takeLocks));
      if (change.releaseLocks) items.push(...lockReleaseItems(this.#table, change.releaseLocks));
      const locksTo = items.length;
      // What the apply's gate took as so unread: the kill switch off, no quiesce flag holding (after the fence).
      const unchanged = change.unchanged;
      const unchangedFrom = items.length;
      if (unchanged?.killSwitch) {
        items.push({
          ConditionCheck: {
            TableName: this.#table,
            Key: CONTROL_KEY,
            ConditionExpression: unchanged.killSwitch.engagedByDefault
              ? 'killSwitch.engaged = :off'
              : 'attribute_not_exists(killSwitch.engaged) OR killSwitch.engaged = :off',
            ExpressionAttributeValues: { ':off': false },
          },
        });
      }
      for (const target of unchanged?.quiesceTargets ?? []) {
        items.push({
          ConditionCheck: {
            TableName: this.#table,
            Key: quiesceKey(target),
            ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now',
            ExpressionAttributeNames: { '#until': 'until' },
            ExpressionAttributeValues: { ':now': unchanged!.now },
          },
        });
      }
      assertTransactionSize(items.length, `updating run ${runId}`);

      try {
        await this.#db.send(new TransactWriteCommand({ TransactItems: items }));
        return updated;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) rethrowAwsError(error, `updating run ${runId}`);
        const reasons = error.CancellationReasons ?? [];
        const taskReason = reasons.slice(1, 1 + (change.tasks?.length ?? 0)).findIndex((reason) => reason.Code === 'ConditionalCheckFailed');
        if (taskReason >= 0) {
          const task = change.tasks![taskReason];
          if (task.claim) throw new DuplicateInFlight(`task ${task.index} of run ${runId} is being applied by another invocation; its lease has not run out`);
          throw new ConcurrentModification(`task ${task.index} of run ${runId} is not in the expected status (${task.expectStatus?.join(' or ') ?? 'exists'})`);
        }
        const changed = reasons.slice(unchangedFrom).findIndex((reason) => reason.Code === 'ConditionalCheckFailed');
        if (changed >= 0) {
          const killSwitchChecked = unchanged?.killSwitch ? 1 : 0;
          throw changed < killSwitchChecked
            ? new ConcurrentModification(`the kill switch is engaged; run ${runId} does not claim task(s)`, { details: { changed: 'killSwitch' } })
            : new ConcurrentModification(`DR target ${unchanged!.quiesceTargets![changed - killSwitchChecked]} is quiesced`, {
                details: { changed: 'quiesce', target: unchanged!.quiesceTargets![changed - killSwitchChecked] },
              });
        }
        if (reasons.slice(locksFrom, locksTo).some((reason) => reason.Code === 'ConditionalCheckFailed')) {
          throw new ConcurrentModification(`a lock run ${runId} would take or give up changed since it was read; nothing is written`, {
            details: { changed: 'locks' },
          });
        }
        if (fence && reasons[fenceAt]?.Code === 'ConditionalCheckFailed') {
          throw new LeaseLost(`run ${runId} no longer holds ${fence.resource} (fencing token ${fence.fencingToken})`);
        }
        // Another writer appended to the run first (or a transaction conflict): re-read the head and go again.
        if (attempt >= MAX_COMMIT_ATTEMPTS) {
          throw new TransientError(`run ${runId} kept changing under us; gave up after ${attempt} attempts`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  async listAwaitingApproval(): Promise<Run[]> {
    const items = await queryAllPages(
      this.#db,
      {
        TableName: this.#table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :runs',
        FilterExpression: '#status = :awaiting',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':runs': 'RUNS', ':awaiting': 'AWAITING_APPROVAL' },
      },
      'listing runs awaiting approval',
    );
    return items.map((item) => fromItem<Run>(item));
  }

  async countActive(): Promise<number> {
    let count = 0;
    const query = {
      TableName: this.#table,
      KeyConditionExpression: 'pk = :active',
      ExpressionAttributeValues: { ':active': 'ACTIVE' },
      Select: 'COUNT' as const,
    };
    for await (const page of queryPages(this.#db, query, 'counting active runs')) count += page.Count ?? 0;
    return count;
  }

  async listEvents(runId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<Page<RunEvent>> {
    const limit = Math.min(Math.max(options.limit ?? 1000, 1), 1000);
    const items = await this.#queryAll(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': runPk(runId),
          ':from': eventKey(runId, (options.afterSeq ?? 0) + 1).sk,
          ':to': eventKey(runId, 9_999_999_999).sk,
        },
      },
      limit,
    );
    const events = items.map((item) => fromItem<RunEvent>(item));
    const last = events.at(-1);
    return { items: events, nextCursor: events.length === limit && last ? String(last.seq) : undefined };
  }

  async listRuns(options: { limit?: number; cursor?: string } = {}): Promise<Page<Run>> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 100);
    try {
      const result = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :runs',
          ExpressionAttributeValues: { ':runs': 'RUNS' },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: options.cursor ? decodeCursor(options.cursor, 'RUNS') : undefined,
        }),
      );
      return {
        items: (result.Items ?? []).map((item) => fromItem<Run>(item)),
        nextCursor: encodeCursor(result.LastEvaluatedKey),
      };
    } catch (error) {
      return rethrowAwsError(error, 'listing runs');
    }
  }

  async #get(key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.#db.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true }));
      return result.Item;
    } catch (error) {
      return rethrowAwsError(error, 'reading the state table');
    }
  }

  #queryAll(
    query: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, unknown> },
    limit = Number.POSITIVE_INFINITY,
  ): Promise<Record<string, unknown>[]> {
    return queryAllPages(this.#db, { TableName: this.#table, ...query, ConsistentRead: true }, 'querying the state table', limit);
  }
}

/** DynamoDB's limit on the items of one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;

/** A change too big for one transaction is a programming error (see MAX_TASKS_PER_RUN), never a partial write. */
function assertTransactionSize(count: number, doing: string): void {
  if (count > MAX_TRANSACTION_ITEMS) {
    throw new Error(`${doing}: ${count} items do not fit in one transaction (at most ${MAX_TRANSACTION_ITEMS})`);
  }
}

/** `SET #r0 = :r0, …` for the defined members of a patch. */
function setExpression(patch: Record<string, unknown>, prefix: string) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const parts: string[] = [];
  let i = 0;
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    names[`#${prefix}${i}`] = name;
    values[`:${prefix}${i}`] = value;
    parts.push(`#${prefix}${i} = :${prefix}${i}`);
    i += 1;
  }
  return { expression: `SET ${parts.join(', ')}`, names, values };
}
