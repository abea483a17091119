import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModification } from '../core/errors.ts';
import { GENESIS_HASH, sealEvents } from '../core/runs/journal.ts';
import type { EventDraft, RunEvent } from '../core/runs/model.ts';
import { rethrowAwsError } from './aws-errors.ts';
import { queryAllPages } from './query-all-pages.ts';

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

const eventSk = (seq: number) => `EVENT#${String(seq).padStart(10, '0')}`;

/**
 * One partition of the state table with a head item (`sk = HEAD`) and a hash-chained journal
 * (`sk = EVENT#…`), as the control record keeps its own: templates and triggers each have one.
 */
export class DynamoJournal {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
  }

  get table(): string {
    return this.#table;
  }

  async head(pk: string): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.#db.send(new GetCommand({ TableName: this.#table, Key: { pk, sk: 'HEAD' }, ConsistentRead: true }))).Item;
    } catch (error) {
      return rethrowAwsError(error, `reading ${pk}`);
    }
  }

  /**
   * Writes the new head (conditional on the head read: none, or the same eventSeq), the audit event
   * and `extra` items, in one transaction. Returns false when an `extra` item's condition failed
   * (nothing written); a head that moved meanwhile is ConcurrentModification.
   */
  async append(input: {
    pk: string;
    head: Record<string, unknown> | undefined;
    next: Record<string, unknown>;
    draft: EventDraft;
    correlationId: string;
    now: Date;
    extra?: readonly TransactItem[];
  }): Promise<boolean> {
    const eventSeq = Number(input.head?.eventSeq ?? 0);
    const [event] = sealEvents(
      { id: input.pk, eventSeq, lastEventHash: String(input.head?.lastEventHash ?? GENESIS_HASH), correlationId: input.correlationId },
      [input.draft],
      input.now,
    );
    const items: TransactItem[] = [
      ...(input.extra ?? []),
      {
        Put: {
          TableName: this.#table,
          Item: { ...input.next, pk: input.pk, sk: 'HEAD', eventSeq: event.seq, lastEventHash: event.hash },
          ConditionExpression: input.head ? 'eventSeq = :seq' : 'attribute_not_exists(pk)',
          ExpressionAttributeValues: input.head ? { ':seq': eventSeq } : undefined,
        },
      },
      {
        Put: {
          TableName: this.#table,
          Item: { pk: input.pk, sk: eventSk(event.seq), entity: 'Event', ...event },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    try {
      await this.#db.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = error.CancellationReasons ?? [];
        const extraFailed = reasons.slice(0, input.extra?.length ?? 0).some((reason) => reason.Code === 'ConditionalCheckFailed');
        if (extraFailed) return false;
        throw new ConcurrentModification(`${input.pk} changed at the same time; try again`, { cause: error });
      }
      return rethrowAwsError(error, `changing ${input.pk}`);
    }
  }

  async events(pk: string): Promise<RunEvent[]> {
    const items = await queryAllPages(
      this.#db,
      {
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :events)',
        ExpressionAttributeValues: { ':pk': pk, ':events': 'EVENT#' },
        ConsistentRead: true,
      },
      `reading the journal of ${pk}`,
    );
    return items.map(({ pk: _pk, sk: _sk, entity: _entity, ...event }) => event as unknown as RunEvent);
  }

  /** Items of the gsi1 partition `gsi1pk`, in gsi1sk order. */
  byIndex(gsi1pk: string): Promise<Record<string, unknown>[]> {
    return queryAllPages(
      this.#db,
      { TableName: this.#table, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': gsi1pk } },
      `listing ${gsi1pk}`,
    );
  }

  async getItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.#db.send(new GetCommand({ TableName: this.#table, Key: { pk, sk }, ConsistentRead: true }))).Item;
    } catch (error) {
      return rethrowAwsError(error, `reading ${pk} ${sk}`);
    }
  }
}

/** Retries a change whose head moved meanwhile (ConcurrentModification) a few times. */
export async function withRetries<T>(change: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await change();
    } catch (error) {
      if (!(error instanceof ConcurrentModification) || attempt >= attempts) throw error;
    }
  }
}
