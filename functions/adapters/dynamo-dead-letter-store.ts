import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeadLetter } from '../core/outbox/model.ts';
import type { DeadLetterStore } from '../core/outbox/ports.ts';
import type { Page } from '../core/runs/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';

const DEAD_LETTERS_INDEX_PK = 'DEAD_LETTERS';

/**
 * Dead letters in the state table (`pk = DLQ#<runId>#<seq>`), listed oldest first through `gsi1`
 * (`gsi1pk = DEAD_LETTERS`, `gsi1sk = <firstFailedAt>#<id>`). Not outbox rows: the relay ignores them.
 */
export class DynamoDeadLetterStore implements DeadLetterStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #keyPrefix: string;
  readonly #indexPk: string;

  /**
   * @param options.keyPrefix what `pk` starts with (a subscription's own letters: `SUBDLQ#<id>#`). @default 'DLQ#'
   * @param options.indexPk the `gsi1pk` they are listed under. @default 'DEAD_LETTERS'
   */
  constructor(options: { client: DynamoDBDocumentClient; tableName: string; keyPrefix?: string; indexPk?: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
    this.#keyPrefix = options.keyPrefix ?? 'DLQ#';
    this.#indexPk = options.indexPk ?? DEAD_LETTERS_INDEX_PK;
  }

  #key(id: string) {
    return { pk: `${this.#keyPrefix}${id}`, sk: 'DLQ' };
  }

  async put(letter: DeadLetter): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...this.#key(letter.id), entity: 'DeadLetter', gsi1pk: this.#indexPk, gsi1sk: `${letter.firstFailedAt}#${letter.id}`, ...letter },
        }),
      );
    } catch (error) {
      rethrowAwsError(error, `recording dead letter ${letter.id}`);
    }
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    try {
      const result = await this.#db.send(new GetCommand({ TableName: this.#table, Key: this.#key(id), ConsistentRead: true }));
      return result.Item ? toDeadLetter(result.Item) : undefined;
    } catch (error) {
      return rethrowAwsError(error, `reading dead letter ${id}`);
    }
  }

  async list(options: { limit?: number; cursor?: string } = {}): Promise<Page<DeadLetter>> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 100);
    try {
      const result = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :dlq',
          ExpressionAttributeValues: { ':dlq': this.#indexPk },
          Limit: limit,
          ExclusiveStartKey: options.cursor ? decodeCursor(options.cursor, this.#indexPk) : undefined,
        }),
      );
      return {
        items: (result.Items ?? []).map(toDeadLetter),
        nextCursor: encodeCursor(result.LastEvaluatedKey),
      };
    } catch (error) {
      return rethrowAwsError(error, 'listing dead letters');
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: this.#key(id) }));
    } catch (error) {
      rethrowAwsError(error, `removing dead letter ${id}`);
    }
  }
}

function toDeadLetter(item: Record<string, unknown>): DeadLetter {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...letter } = item;
  return letter as unknown as DeadLetter;
}
