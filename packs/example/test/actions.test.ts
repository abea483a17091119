import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoItemStore } from '../../../functions/adapters/dynamo-item-store.ts';
import { S3ObjectStore } from '../../../functions/adapters/s3-object-store.ts';
import type { ActionContext } from '../../../functions/core/actions/pack-api.ts';
import { validatePack } from '../../../functions/core/actions/pack.ts';
import type { EmbeddedStack } from '../../../local/stack.ts';
import { startTestStack } from '../../../test/support/test-stack.ts';
import { dynamodbCounter } from '../actions/dynamodb-counter.ts';
import { renderDocument, s3PutJson } from '../actions/s3-put-json.ts';
import { pack } from '../index.ts';

// The pack's actions against the embedded stack's S3 and DynamoDB (real services, no mocks), through
// Maestro's own adapters: what an executor gives them.
let stack: EmbeddedStack;
let s3: S3Client;
let ctx: (idempotencyKey: string) => ActionContext;

beforeAll(async () => {
  stack = await startTestStack('pack-example');
  s3 = new S3Client({ forcePathStyle: true });
  const objects = new S3ObjectStore(s3);
  const items = new DynamoItemStore(DynamoDBDocumentClient.from(new DynamoDBClient({})));
  ctx = (idempotencyKey) => ({ objects, items, runId: 'run-test', taskIndex: 0, idempotencyKey });
});
afterAll(async () => {
  await stack?.stop();
});

describe('the example pack', () => {
  it("passes the loader's checks (names, versions, budgets, examples)", () => {
    expect(validatePack(pack, { name: 'example', version: '1.0.0' }, new Map(), 'packs[0]').actions.map((action) => action.name)).toStrictEqual([
      'example.s3-put-json',
      'example.dynamodb-counter',
    ]);
  });
});

describe('example.s3-put-json', () => {
  const document = { service: 'checkout', owner: 'payments@example.com', flags: { 'new-cart': true, beta: false } };

  it('refuses a document that is not a flag document, naming the field', () => {
    const parsed = s3PutJson.schema.safeParse({ bucket: 'maestro-demo', key: 'flags/x.json', document: { ...document, owner: 'nobody' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toStrictEqual(['document', 'owner']);
  });

  it('creates, replays without writing, verifies, and rolls back to no object', async () => {
    const params = s3PutJson.schema.parse({ bucket: stack.demoBucket, key: 'flags/checkout.json', document });
    const plan = await s3PutJson.plan(params, ctx('k1'));
    expect(plan.change).toBe('create');
    expect(plan.diff).toContain('+  "service": "checkout",');
    await s3PutJson.apply(plan, ctx('k1'));
    expect(await s3PutJson.apply(plan, ctx('k1'))).toMatchObject({ replayed: true });
    await s3PutJson.verify(plan, {}, ctx('k1'));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: 'flags/checkout.json' }));
    expect(versions.Versions?.length).toBe(1);
    expect((await ctx('k1').objects.get(stack.demoBucket, 'flags/checkout.json'))?.body.toString()).toBe(renderDocument(document));
    await s3PutJson.rollback(plan, undefined, ctx('k1'));
    expect(await ctx('k1').objects.head(stack.demoBucket, 'flags/checkout.json')).toBeUndefined();
  });

  it('refuses with StalePlan when the object changed between plan and apply, and writes nothing', async () => {
    const key = 'flags/stale.json';
    await ctx('seed').objects.put({ bucket: stack.demoBucket, key, body: Buffer.from(renderDocument(document)) });
    const plan = await s3PutJson.plan(s3PutJson.schema.parse({ bucket: stack.demoBucket, key, document: { ...document, flags: { beta: true } } }), ctx('k2'));
    await ctx('other').objects.put({ bucket: stack.demoBucket, key, body: Buffer.from('{}\n') });
    await expect(s3PutJson.apply(plan, ctx('k2'))).rejects.toMatchObject({ name: 'StalePlan' });
    expect((await ctx('k2').objects.get(stack.demoBucket, key))?.body.toString()).toBe('{}\n');
  });
});

describe('example.dynamodb-counter', () => {
  it('increments once however often apply runs, and rollback restores the previous value', async () => {
    const key = { id: 'releases#checkout' };
    await ctx('seed').items.put(stack.demoTable, { ...key, count: 41 }, undefined);
    const params = dynamodbCounter.schema.parse({ table: stack.demoTable, key, attribute: 'count' });
    const plan = await dynamodbCounter.plan(params, ctx('c1'));
    expect(plan.summary).toContain('41 → 42');
    expect(await dynamodbCounter.apply(plan, ctx('c1'))).toStrictEqual({ value: 42 });
    expect(await dynamodbCounter.apply(plan, ctx('c1'))).toStrictEqual({ value: 42, replayed: true });
    expect(await ctx('c1').items.get(stack.demoTable, key)).toStrictEqual({ ...key, count: 42 });
    await dynamodbCounter.verify(plan, {}, ctx('c1'));
    await dynamodbCounter.rollback(plan, undefined, ctx('c1'));
    expect(await ctx('c1').items.get(stack.demoTable, key)).toStrictEqual({ ...key, count: 41 });
  });

  it('refuses with StalePlan when someone counted between plan and apply', async () => {
    const key = { id: 'releases#stale' };
    const plan = await dynamodbCounter.plan(dynamodbCounter.schema.parse({ table: stack.demoTable, key, attribute: 'count', by: 5 }), ctx('c2'));
    await ctx('other').items.put(stack.demoTable, { ...key, count: 1 }, undefined);
    await expect(dynamodbCounter.apply(plan, ctx('c2'))).rejects.toMatchObject({ name: 'StalePlan' });
    expect(await ctx('c2').items.get(stack.demoTable, key)).toStrictEqual({ ...key, count: 1 });
  });

  it("refuses a key that is not the table's primary key", async () => {
    const params = dynamodbCounter.schema.parse({ table: stack.demoTable, key: { id: 'x', extra: 'y' }, attribute: 'count' });
    await expect(dynamodbCounter.plan(params, ctx('c3'))).rejects.toMatchObject({ name: 'ActionFailed', field: 'key' });
  });
});
