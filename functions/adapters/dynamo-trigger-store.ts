import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TriggerExists } from '../core/errors.ts';
import type { RunEvent } from '../core/runs/model.ts';
import type { Firing, Trigger, TriggerDefinition, TriggerStore } from '../core/triggers/trigger-model.ts';
import { rethrowAwsError } from './aws-errors.ts';
import { DynamoJournal, withRetries } from './dynamo-journal.ts';

const pkOf = (id: string) => `TRIGGER#${id}`;
const firingSk = (key: string) => `FIRING#${key}`;
/** Settled firings are kept a week: longer than any webhook timestamp window, EventBridge's retries or a scheduler's catch-up. */
const FIRING_TTL_SECONDS = 7 * 86_400;
/** The gsi1 partition of claimed firings not settled yet, oldest claim first. */
const UNSETTLED_PK = 'TRIGGER_FIRINGS_UNSETTLED';
const unsettledIndex = (firing: Firing) => ({ gsi1pk: UNSETTLED_PK, gsi1sk: `${firing.claimedAt}#${firing.triggerId}#${firing.key}` });
const HEAD_ATTRIBUTES = ['definition', 'source', 'paused', 'createdBy', 'createdAt', 'secretVersion', 'lastRunId'] as const;

function triggerOf(item: Record<string, unknown>): Trigger {
  return {
    definition: item.definition as TriggerDefinition,
    source: item.source as Trigger['source'],
    paused: item.paused === true,
    createdBy: String(item.createdBy),
    createdAt: String(item.createdAt),
    ...(item.secretVersion !== undefined ? { secretVersion: Number(item.secretVersion) } : {}),
    ...(item.lastRunId !== undefined ? { lastRunId: String(item.lastRunId) } : {}),
  };
}

function firingOf(item: Record<string, unknown>): Firing {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _g, gsi1sk: _s, expiresAt: _e, ...firing } = item;
  return firing as unknown as Firing;
}

const headItem = (trigger: Trigger) => ({
  entity: 'Trigger',
  gsi1pk: 'TRIGGERS',
  gsi1sk: trigger.definition.id,
  ...Object.fromEntries(HEAD_ATTRIBUTES.filter((key) => trigger[key] !== undefined).map((key) => [key, trigger[key]])),
});

const EVENT_OF_STATE = { created: 'TriggerFired', skipped: 'TriggerSkipped', queued: 'TriggerQueued', claimed: 'TriggerClaimed' } as const;

/** Triggers in the state table (`pk = TRIGGER#<id>`): a head with the state, one item per firing key, an audit journal. */
export class DynamoTriggerStore implements TriggerStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #journal: DynamoJournal;
  #writes = 0;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#journal = new DynamoJournal(options);
  }

  /** Changes to trigger heads made through this store (a `ListingCache` of `list()` reads again after each). */
  writes(): number {
    return this.#writes;
  }

  /** Every change of a trigger's head goes through here, and is counted once it is answered (landed or not). */
  async #append(input: Parameters<DynamoJournal['append']>[0]): Promise<boolean> {
    try {
      return await this.#journal.append(input);
    } finally {
      this.#writes += 1;
    }
  }

  async create(input: Parameters<TriggerStore['create']>[0]): Promise<Trigger> {
    const trigger: Trigger = {
      definition: input.definition,
      source: 'api',
      paused: false,
      createdBy: input.actor,
      createdAt: input.now.toISOString(),
      ...(input.definition.kind === 'webhook' ? { secretVersion: 1 } : {}),
    };
    const pk = pkOf(input.definition.id);
    const head = await this.#journal.head(pk);
    if (head) throw new TriggerExists(`trigger ${input.definition.id} already exists`, { field: 'id' });
    try {
      await this.#append({
        pk,
        head: undefined,
        next: headItem(trigger),
        draft: {
          type: 'TriggerCreated',
          actor: input.actor,
          message: `${input.actor} created the ${input.definition.kind} trigger ${input.definition.id} of template ${input.definition.template.name}`,
          payload: { definition: input.definition },
        },
        correlationId: input.correlationId,
        now: input.now,
      });
    } catch (error) {
      if ((error as Error).name === 'ConcurrentModification') throw new TriggerExists(`trigger ${input.definition.id} already exists`, { field: 'id' });
      throw error;
    }
    return trigger;
  }

  async get(id: string): Promise<Trigger | undefined> {
    const item = await this.#journal.head(pkOf(id));
    return item ? triggerOf(item) : undefined;
  }

  async list(): Promise<Trigger[]> {
    return (await this.#journal.byIndex('TRIGGERS')).map(triggerOf);
  }

  setPaused(input: Parameters<TriggerStore['setPaused']>[0]): Promise<Trigger> {
    const pk = pkOf(input.id);
    return withRetries(async () => {
      const head = await this.#journal.head(pk);
      const current = head ? triggerOf(head) : input.seed;
      if (!current) throw new Error(`trigger ${input.id} has no state to change`);
      const next = { ...current, paused: input.paused };
      await this.#append({
        pk,
        head,
        next: headItem(next),
        draft: {
          type: input.paused ? 'TriggerPaused' : 'TriggerResumed',
          level: input.paused ? 'WARN' : 'INFO',
          actor: input.actor,
          message: `${input.actor} ${input.paused ? 'paused' : 'resumed'} trigger ${input.id}: ${input.reason}`,
          payload: { reason: input.reason },
        },
        correlationId: input.correlationId,
        now: input.now,
      });
      return next;
    });
  }

  async claimFiring(firing: Firing): Promise<boolean> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#journal.table,
          // Listed under UNSETTLED until its settlement's Put replaces the item (a crashed firing stays there).
          Item: { pk: pkOf(firing.triggerId), sk: firingSk(firing.key), entity: 'TriggerFiring', ...firing, ...unsettledIndex(firing) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowAwsError(error, `claiming firing ${firing.key} of trigger ${firing.triggerId}`);
    }
  }

  async getFiring(triggerId: string, key: string): Promise<Firing | undefined> {
    const item = await this.#journal.getItem(pkOf(triggerId), firingSk(key));
    return item ? firingOf(item) : undefined;
  }

  async settleFiring(input: Parameters<TriggerStore['settleFiring']>[0]): Promise<void> {
    const { firing, state } = input;
    const pk = pkOf(firing.triggerId);
    await withRetries(async () => {
      const head = await this.#journal.head(pk);
      const current = head ? triggerOf(head) : input.seed;
      if (!current) throw new Error(`trigger ${firing.triggerId} has no state to record a firing on`);
      const next = state === 'created' && input.runId ? { ...current, lastRunId: input.runId } : current;
      const settled: Firing = { ...firing, state, ...(input.runId ? { runId: input.runId } : {}), ...(input.reason ? { reason: input.reason } : {}) };
      const queued = state === 'queued' ? { gsi1pk: `QUEUED#${firing.triggerId}`, gsi1sk: `${firing.claimedAt}#${firing.key}` } : {};
      const expiry = state === 'queued' ? {} : { expiresAt: Math.floor(input.now.getTime() / 1000) + FIRING_TTL_SECONDS };
      // Only from the state the caller read: a concurrent duplicate that settled first wins, and this one writes nothing.
      await this.#append({
        pk,
        head,
        next: headItem(next),
        draft: {
          type: EVENT_OF_STATE[state],
          level: state === 'skipped' ? 'WARN' : 'INFO',
          actor: `trigger:${firing.triggerId}`,
          message:
            state === 'created'
              ? `trigger ${firing.triggerId} fired (${firing.key}): run ${input.runId}`
              : `trigger ${firing.triggerId} ${state === 'skipped' ? 'skipped' : 'queued'} a firing (${firing.key}): ${input.reason}`,
          payload: { key: firing.key, ...(input.runId ? { runId: input.runId } : {}), ...(input.reason ? { reason: input.reason } : {}) },
        },
        correlationId: firing.correlationId,
        now: input.now,
        extra: [
          {
            Put: {
              TableName: this.#journal.table,
              Item: { pk, sk: firingSk(firing.key), entity: 'TriggerFiring', ...settled, ...queued, ...expiry },
              ConditionExpression: '#state = :from',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':from': firing.state },
            },
          },
        ],
      });
    });
  }

  async listUnsettled(): Promise<Firing[]> {
    return (await this.#journal.byIndex(UNSETTLED_PK)).map(firingOf);
  }

  async listQueued(triggerId: string): Promise<Firing[]> {
    return (await this.#journal.byIndex(`QUEUED#${triggerId}`)).map(firingOf);
  }

  listEvents(id: string): Promise<RunEvent[]> {
    return this.#journal.events(pkOf(id));
  }
}
