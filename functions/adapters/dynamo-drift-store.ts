import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModification, DriftFindingNotFound } from '../core/errors.ts';
import type { DriftFinding, DriftStatus } from '../core/drift/model.ts';
import type { DriftStore } from '../core/drift/ports.ts';
import type { OutboxMessage } from '../core/outbox/model.ts';
import type { Page } from '../core/runs/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';
import { OUTBOX_PK_PREFIX, OUTBOX_TTL_SECONDS } from './outbox-items.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';

const INDEX_PK = 'DRIFT';
const findingKey = (id: string) => ({ pk: `DRIFT#${id}`, sk: 'DRIFT' });

/**
 * Drift findings in the state table (`pk = DRIFT#<id>`), newest first through `gsi1` (`gsi1pk = DRIFT`,
 * `gsi1sk = <detectedAt>#<id>`). A new finding and its DriftDetected outbox row (`pk = OUTBOX#<id>`,
 * which the relay reads like a run event's) are one transaction, conditional on the finding being new:
 * a drift seen again is announced never again.
 */
export class DynamoDriftStore implements DriftStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
  }

  async record(finding: DriftFinding, announcement: OutboxMessage): Promise<{ created: boolean; finding: DriftFinding }> {
    const expiresAt = Math.floor(Date.parse(finding.detectedAt) / 1000) + OUTBOX_TTL_SECONDS;
    try {
      await this.#db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#table,
                Item: { ...findingKey(finding.id), entity: 'DriftFinding', gsi1pk: INDEX_PK, gsi1sk: `${finding.detectedAt}#${finding.id}`, ...finding },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.#table,
                Item: { pk: `${OUTBOX_PK_PREFIX}${finding.id}`, sk: String(announcement.seq).padStart(10, '0'), entity: 'Outbox', ...announcement, expiresAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return { created: true, finding };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException) || error.CancellationReasons?.[0]?.Code !== 'ConditionalCheckFailed') {
        return rethrowAwsError(error, `recording drift finding ${finding.id}`);
      }
    }
    return { created: false, finding: await this.update(finding.id, { lastSeenAt: finding.lastSeenAt }) };
  }

  async get(id: string): Promise<DriftFinding | undefined> {
    try {
      const result = await this.#db.send(new GetCommand({ TableName: this.#table, Key: findingKey(id), ConsistentRead: true }));
      return result.Item ? toFinding(result.Item) : undefined;
    } catch (error) {
      return rethrowAwsError(error, `reading drift finding ${id}`);
    }
  }

  async list(options: { environment?: string; status?: readonly DriftStatus[]; limit?: number; cursor?: string } = {}): Promise<Page<DriftFinding>> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 100);
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':drift': INDEX_PK };
    if (options.environment) {
      filters.push('#environment = :environment');
      names['#environment'] = 'environment';
      values[':environment'] = options.environment;
    }
    if (options.status?.length) {
      filters.push(`#status IN (${options.status.map((_, i) => `:status${i}`).join(', ')})`);
      names['#status'] = 'status';
      options.status.forEach((status, i) => {
        values[`:status${i}`] = status;
      });
    }
    try {
      const result = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :drift',
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: options.cursor ? decodeCursor(options.cursor, INDEX_PK) : undefined,
        }),
      );
      return { items: (result.Items ?? []).map(toFinding), nextCursor: encodeCursor(result.LastEvaluatedKey) };
    } catch (error) {
      return rethrowAwsError(error, 'listing drift findings');
    }
  }

  async update(id: string, patch: Partial<Omit<DriftFinding, 'id'>>, expectStatus?: readonly DriftStatus[]): Promise<DriftFinding> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const remove: string[] = [];
    Object.entries(patch).forEach(([name, value], i) => {
      names[`#a${i}`] = name;
      if (value === undefined) remove.push(`#a${i}`);
      else {
        values[`:a${i}`] = value;
        set.push(`#a${i} = :a${i}`);
      }
    });
    const conditions = ['attribute_exists(pk)'];
    if (expectStatus?.length) {
      names['#status'] = 'status';
      conditions.push(`#status IN (${expectStatus.map((_, i) => `:expect${i}`).join(', ')})`);
      expectStatus.forEach((status, i) => {
        values[`:expect${i}`] = status;
      });
    }
    const expression = [set.length > 0 ? `SET ${set.join(', ')}` : '', remove.length > 0 ? `REMOVE ${remove.join(', ')}` : ''].filter(Boolean).join(' ');
    try {
      const result = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: findingKey(id),
          UpdateExpression: expression,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toFinding(result.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.get(id);
        if (!current) throw new DriftFindingNotFound(`drift finding ${id} does not exist`, { field: 'id' });
        throw new ConcurrentModification(`drift finding ${id} is ${current.status}; expected ${expectStatus?.join(' or ')}`);
      }
      return rethrowAwsError(error, `updating drift finding ${id}`);
    }
  }
}

function toFinding(item: Record<string, unknown>): DriftFinding {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...finding } = item;
  return finding as unknown as DriftFinding;
}
