import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { queryAllPages, queryPages } from '../../functions/adapters/query-all-pages.ts';
import { ensureStateTable } from '../../local/dynamodb/tables.ts';

const client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const db = DynamoDBDocumentClient.from(client);
const tableName = `paging-${randomBytes(3).toString('hex')}-maestro-state`;
const pad = (i: number) => String(i).padStart(3, '0');
/** Pages of 4 items (the Query's own Limit), so 23 items take 6 pages. */
const query = { TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'PAGED' }, ConsistentRead: true, Limit: 4 };

beforeAll(async () => {
  await ensureStateTable(client, tableName);
  const items = Array.from({ length: 23 }, (_, i) => ({ PutRequest: { Item: { pk: 'PAGED', sk: pad(i), n: i } } }));
  for (let i = 0; i < items.length; i += 25) await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: items.slice(i, i + 25) } }));
});

describe('queryAllPages', () => {
  it('follows LastEvaluatedKey to the last page, in key order', async () => {
    const pages: number[] = [];
    for await (const page of queryPages(db, query, 'reading')) pages.push(page.Count ?? 0);
    expect(pages.reduce((sum, count) => sum + count, 0)).toBe(23);
    expect(pages.length).toBeGreaterThanOrEqual(6);
    expect((await queryAllPages(db, query, 'reading')).map((item) => item.sk)).toEqual(Array.from({ length: 23 }, (_, i) => pad(i)));
  });

  it('stops at `limit`, asking each page only for what is missing', async () => {
    const items = await queryAllPages(db, { ...query, Limit: undefined }, 'reading', 10);
    expect(items.map((item) => item.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const counted: number[] = [];
    for await (const page of queryPages(db, { ...query, Select: 'COUNT' }, 'counting', 7)) counted.push(page.Count ?? 0);
    expect(counted).toEqual([7]);
  });
});
