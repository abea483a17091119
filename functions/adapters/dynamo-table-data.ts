import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  paginateScan,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TableData, TableSchema } from '../core/dr/ports.ts';
import type { DynamoItem } from '../core/dr/record-codec.ts';
import { TransientError } from '../core/errors.ts';
import { rethrowAwsError } from './aws-errors.ts';

type Raw = Record<string, AttributeValue>;

/** Whole tables for DR, through the low-level client so items keep their exact DynamoDB types. */
export class DynamoTableData implements TableData {
  readonly #db: DynamoDBClient;
  readonly #scanPageSize: number;
  readonly #segments: number;

  constructor(options: { client: DynamoDBClient; scanPageSize?: number; scanSegments?: number }) {
    this.#db = options.client;
    this.#scanPageSize = options.scanPageSize ?? 500;
    this.#segments = options.scanSegments ?? 4;
  }

  async describe(table: string): Promise<TableSchema> {
    const out = await this.#db.send(new DescribeTableCommand({ TableName: table })).catch((e) => rethrowAwsError(e, `describing table ${table}`));
    const keySchema = (out.Table?.KeySchema ?? []).map((k) => ({ AttributeName: k.AttributeName!, KeyType: k.KeyType as 'HASH' | 'RANGE' }));
    const keyNames = new Set(keySchema.map((k) => k.AttributeName));
    const attributeDefinitions = (out.Table?.AttributeDefinitions ?? [])
      .filter((a) => keyNames.has(a.AttributeName!))
      .map((a) => ({ AttributeName: a.AttributeName!, AttributeType: a.AttributeType as 'S' | 'N' | 'B' }));
    return { keySchema, attributeDefinitions };
  }

  /**
   * A parallel Scan: `segments` segments paged at once, their pages handed on as they arrive. At most
   * one page per segment waits here while the consumer is busy, so memory stays bounded by the segments.
   */
  async *scan(table: string): AsyncIterable<DynamoItem> {
    const segments = this.#segments;
    const pages = Array.from({ length: segments }, (_, segment) =>
      paginateScan(
        { client: this.#db },
        { TableName: table, Limit: this.#scanPageSize, ConsistentRead: true, ...(segments > 1 ? { Segment: segment, TotalSegments: segments } : {}) },
      )[Symbol.asyncIterator](),
    );
    const next = (segment: number) =>
      pages[segment].next().then(
        (result) => ({ segment, result }),
        (error: unknown) => rethrowAwsError(error, `scanning ${table}`),
      );
    const waiting = new Map(pages.map((_, segment) => [segment, next(segment)]));
    try {
      while (waiting.size > 0) {
        const { segment, result } = await Promise.race(waiting.values());
        if (result.done) {
          waiting.delete(segment);
          continue;
        }
        waiting.set(segment, next(segment));
        for (const item of result.value.Items ?? []) yield item as unknown as DynamoItem;
      }
    } finally {
      for (const pending of waiting.values()) pending.catch(() => undefined);
    }
  }

  async getItem(table: string, key: DynamoItem): Promise<DynamoItem | undefined> {
    const out = await this.#db
      .send(new GetItemCommand({ TableName: table, Key: key as unknown as Raw, ConsistentRead: true }))
      .catch((e) => rethrowAwsError(e, `reading from ${table}`));
    return out.Item as unknown as DynamoItem | undefined;
  }

  async createTable(table: string, schema: TableSchema): Promise<void> {
    try {
      await this.#db.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: schema.keySchema,
          AttributeDefinitions: schema.attributeDefinitions,
        }),
      );
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ResourceInUseException')) rethrowAwsError(error, `creating table ${table}`);
    }
    await waitUntilTableExists({ client: this.#db, maxWaitTime: 300, minDelay: 1, maxDelay: 5 }, { TableName: table });
  }

  async putItems(table: string, items: DynamoItem[]): Promise<void> {
    let requests: WriteRequest[] = items.map((item) => ({ PutRequest: { Item: item as unknown as Raw } }));
    for (let attempt = 0; requests.length > 0; attempt += 1) {
      if (attempt > 8) throw new TransientError(`${requests.length} item(s) stayed unprocessed writing to ${table}`);
      if (attempt > 0) await sleep(Math.min(2000, 50 * 2 ** attempt));
      const out = await this.#db
        .send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }))
        .catch((e) => rethrowAwsError(e, `writing to ${table}`));
      requests = out.UnprocessedItems?.[table] ?? [];
    }
  }

  async deleteTable(table: string): Promise<void> {
    try {
      await this.#db.send(new DeleteTableCommand({ TableName: table }));
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return;
      rethrowAwsError(error, `deleting table ${table}`);
    }
    await waitUntilTableNotExists({ client: this.#db, maxWaitTime: 300, minDelay: 1, maxDelay: 5 }, { TableName: table });
  }
}
