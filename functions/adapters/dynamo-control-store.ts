import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ControlState, ControlStore, FreezeOverride, KillSwitchState } from '../core/control/model.ts';
import { ConcurrentModification } from '../core/errors.ts';
import { GENESIS_HASH, sealEvents } from '../core/runs/journal.ts';
import type { EventDraft, RunEvent } from '../core/runs/model.ts';
import { rethrowAwsError } from './aws-errors.ts';

const CONTROL_KEY = { pk: 'CONTROL', sk: 'CONTROL' };
const JOURNAL_ID = 'control';

/** The control record in the state table, with its own hash-chained journal (`pk = CONTROL`). */
export class DynamoControlStore implements ControlStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
  }

  async read(initial: ControlState): Promise<ControlState> {
    const item = await this.#head();
    return item ? stateOf(item, initial) : initial;
  }

  setKillSwitch(state: Required<KillSwitchState>, correlationId: string): Promise<ControlState> {
    return this.#change(
      (current) => ({ ...current, killSwitch: state }),
      {
        type: state.engaged ? 'KillSwitchEngaged' : 'KillSwitchReleased',
        level: state.engaged ? 'WARN' : 'INFO',
        actor: state.changedBy,
        message: `${state.changedBy} ${state.engaged ? 'engaged' : 'released'} the kill switch: ${state.reason}`,
        payload: { reason: state.reason },
      },
      correlationId,
      new Date(state.changedAt),
    );
  }

  addFreezeOverride(override: FreezeOverride, correlationId: string): Promise<ControlState> {
    const now = new Date(override.grantedAt);
    return this.#change(
      (current) => ({
        ...current,
        freezeOverrides: [...(current.freezeOverrides ?? []).filter((existing) => Date.parse(existing.until) > now.getTime()), override],
      }),
      {
        type: 'FreezeOverrideGranted',
        level: 'WARN',
        actor: override.grantedBy,
        message: `${override.grantedBy} allowed changes to ${override.environment} during the freeze until ${override.until}: ${override.justification}`,
        payload: { ...override },
      },
      correlationId,
      now,
    );
  }

  async listEvents(): Promise<RunEvent[]> {
    try {
      const result = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :events)',
          ExpressionAttributeValues: { ':pk': 'CONTROL', ':events': 'EVENT#' },
          ConsistentRead: true,
        }),
      );
      return (result.Items ?? []).map(({ pk, sk, entity, ...event }) => event as RunEvent);
    } catch (error) {
      return rethrowAwsError(error, 'reading the control journal');
    }
  }

  /** Applies a change to the record and appends its audit event, in one conditional transaction. */
  async #change(mutate: (current: ControlState) => ControlState, draft: EventDraft, correlationId: string, now: Date): Promise<ControlState> {
    const head = await this.#head();
    const current = head ? stateOf(head, { killSwitch: { engaged: false } }) : { killSwitch: { engaged: false } };
    const next = mutate(current);
    const eventSeq = Number(head?.eventSeq ?? 0);
    const [event] = sealEvents({ id: JOURNAL_ID, eventSeq, lastEventHash: String(head?.lastEventHash ?? GENESIS_HASH), correlationId }, [draft], now);
    try {
      await this.#db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#table,
                Item: { ...CONTROL_KEY, entity: 'Control', ...next, eventSeq: event.seq, lastEventHash: event.hash },
                ConditionExpression: head ? 'eventSeq = :seq' : 'attribute_not_exists(pk)',
                ExpressionAttributeValues: head ? { ':seq': eventSeq } : undefined,
              },
            },
            {
              Put: {
                TableName: this.#table,
                Item: { pk: 'CONTROL', sk: `EVENT#${String(event.seq).padStart(10, '0')}`, entity: 'Event', ...event },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException)
        throw new ConcurrentModification('the control record changed at the same time; try again', { cause: error });
      rethrowAwsError(error, 'changing the control record');
    }
    return next;
  }

  async #head(): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.#db.send(new GetCommand({ TableName: this.#table, Key: CONTROL_KEY, ConsistentRead: true }))).Item;
    } catch (error) {
      return rethrowAwsError(error, 'reading the control record');
    }
  }
}

function stateOf(item: Record<string, unknown>, initial: ControlState): ControlState {
  return {
    killSwitch: (item.killSwitch as KillSwitchState | undefined) ?? initial.killSwitch,
    freezeOverrides: (item.freezeOverrides as FreezeOverride[] | undefined) ?? [],
  };
}
