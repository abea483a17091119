import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoSubscriptionStore, withCachedList } from '../../functions/adapters/dynamo-subscription-store.ts';
import { DynamoTriggerStore } from '../../functions/adapters/dynamo-trigger-store.ts';
import { ListingCache } from '../../functions/adapters/listing-cache.ts';
import type { Subscription } from '../../functions/core/subscriptions/model.ts';
import { ensureStateTable } from '../../local/dynamodb/tables.ts';

/** A loader that counts its reads and answers what `items` holds at the time. */
function counted(items: string[]) {
  const loader = {
    reads: 0,
    load: async () => {
      loader.reads += 1;
      return [...items];
    },
  };
  return loader;
}

describe('ListingCache', () => {
  it('reads once while fresh, again after maxAgeMs, and again at once after a write through the store', async () => {
    const items = ['a'];
    const loader = counted(items);
    let now = 0;
    let writes = 0;
    const cache = new ListingCache({ load: loader.load, writes: () => writes, maxAgeMs: 1000, now: () => now });
    expect(await cache.list()).toEqual(['a']);
    items.push('b');
    now = 999;
    expect(await cache.list()).toEqual(['a']);
    expect(loader.reads).toBe(1);
    now = 1000;
    expect(await cache.list()).toEqual(['a', 'b']);
    expect(loader.reads).toBe(2);
    items.push('c');
    writes += 1;
    expect(await cache.list()).toEqual(['a', 'b', 'c']);
    expect(loader.reads).toBe(3);
  });

  it('shares one read between concurrent callers, and reads again when a write landed during the read', async () => {
    const items = ['a'];
    let writes = 0;
    let release: () => void = () => undefined;
    let reads = 0;
    const cache = new ListingCache({
      load: async () => {
        reads += 1;
        const answer = [...items];
        if (reads === 1) await new Promise<void>((done) => (release = done));
        return answer;
      },
      writes: () => writes,
      maxAgeMs: 60_000,
    });
    const first = cache.list();
    const second = cache.list();
    // A write while the first read is in flight: what that read answers may predate it.
    items.push('b');
    writes += 1;
    release();
    expect(await first).toEqual(['a']);
    expect(await second).toEqual(['a']);
    expect(reads).toBe(1);
    expect(await cache.list()).toEqual(['a', 'b']);
    expect(reads).toBe(2);
  });

  it('keeps no failed read: the next caller reads again', async () => {
    let fail = true;
    const cache = new ListingCache({
      load: async () => {
        if (fail) throw new Error('unreachable table');
        return ['a'];
      },
      writes: () => 0,
      maxAgeMs: 60_000,
    });
    await expect(cache.list()).rejects.toThrow('unreachable table');
    fail = false;
    expect(await cache.list()).toEqual(['a']);
  });
});

describe('stores whose listings are cached', () => {
  const client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const tableName = `listing-${randomBytes(3).toString('hex')}-maestro-state`;
  beforeAll(async () => {
    await ensureStateTable(client, tableName);
  });
  const subscription = (): Subscription => ({
    id: randomUUID(),
    kind: 'url',
    url: 'https://hooks.example.com/x',
    eventTypes: ['*'],
    environments: [],
    secret: 'secret',
    createdBy: 'dev-admin',
    createdAt: new Date().toISOString(),
  });

  it('the relay’s subscription list sees a create and a delete through its store at once; an out-of-band item only after maxAgeMs', async () => {
    const store = new DynamoSubscriptionStore({ client: documents, tableName });
    // An hour: nothing below depends on the clock.
    const relay = withCachedList(store, 3_600_000);
    expect(await relay.list()).toEqual([]);
    const created = subscription();
    await store.put(created);
    expect((await relay.list()).map((s) => s.id)).toEqual([created.id]);
    // Written by another process (the API function in AWS): this relay's list is not read again yet.
    const elsewhere = subscription();
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: `SUB#${elsewhere.id}`,
          sk: 'SUB',
          entity: 'Subscription',
          gsi1pk: 'SUBSCRIPTIONS',
          gsi1sk: `${elsewhere.createdAt}#${elsewhere.id}`,
          ...elsewhere,
        },
      }),
    );
    expect((await relay.list()).map((s) => s.id)).toEqual([created.id]);
    // The store's own list is never cached (the API lists through it).
    expect((await store.list()).map((s) => s.id).sort()).toEqual([created.id, elsewhere.id].sort());
    expect(await store.remove(created.id)).toBe(true);
    expect((await relay.list()).map((s) => s.id)).toEqual([elsewhere.id]);
    // With no age allowed, every read is a read of the table.
    const fresh = withCachedList(new DynamoSubscriptionStore({ client: documents, tableName }), 0);
    expect((await fresh.list()).map((s) => s.id)).toEqual([elsewhere.id]);
  });

  it('a trigger store counts every change of a trigger head, refused or not', async () => {
    const store = new DynamoTriggerStore({ client: documents, tableName });
    const definition = { id: `t-${randomUUID()}`, kind: 'schedule', schedule: 'rate(1 hour)', template: { name: 'x' }, overlap: 'skip' } as never;
    const input = { definition, actor: 'dev-admin', correlationId: 'c', now: new Date() };
    expect(store.writes()).toBe(0);
    await store.create(input);
    expect(store.writes()).toBe(1);
    await expect(store.create(input)).rejects.toThrow();
    await store.setPaused({ id: (definition as { id: string }).id, paused: true, actor: 'dev-admin', reason: 'test', correlationId: 'c', now: new Date() });
    expect(store.writes()).toBeGreaterThanOrEqual(2);
    const listed = await store.list();
    expect(listed.find((trigger) => trigger.definition.id === (definition as { id: string }).id)?.paused).toBe(true);
  });
});
