import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoLockStore } from '../../functions/adapters/dynamo-lock-store.ts';
import { LeaseLost } from '../../functions/core/errors.ts';
import { lockableResources } from '../../functions/core/locks/model.ts';
import { ensureStateTable } from '../../local/dynamodb/tables.ts';

const client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const tableName = `locks-${randomBytes(3).toString('hex')}-maestro-state`;
const locks = new DynamoLockStore({ client: DynamoDBDocumentClient.from(client), tableName });
const resource = () => `s3://bucket/${randomUUID()}`;
const at = (ms: number) => new Date(1_800_000_000_000 + ms);

beforeAll(async () => {
  await ensureStateTable(client, tableName);
});

describe('DynamoLockStore', () => {
  it('gives a free resource to the first run, renews it for the holder, and queues others', async () => {
    const r = resource();
    expect(await locks.acquire({ resource: r, runId: 'a', taskIndex: 0, leaseMs: 60_000, now: at(0) })).toEqual({ acquired: true, fencingToken: 1 });
    expect(await locks.acquire({ resource: r, runId: 'a', taskIndex: 1, leaseMs: 60_000, now: at(10) })).toEqual({ acquired: true, fencingToken: 1 });
    const waiting = await locks.acquire({ resource: r, runId: 'b', taskIndex: 0, leaseMs: 60_000, now: at(20) });
    expect(waiting).toMatchObject({ acquired: false, holder: { runId: 'a' }, position: 1, newlyQueued: true });
    expect(await locks.acquire({ resource: r, runId: 'b', taskIndex: 0, leaseMs: 60_000, now: at(30) })).toMatchObject({ acquired: false, newlyQueued: false });
  });

  it('serves waiters first come, first served once the holder releases', async () => {
    const r = resource();
    await locks.acquire({ resource: r, runId: 'holder', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await locks.acquire({ resource: r, runId: 'first', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await locks.acquire({ resource: r, runId: 'second', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await locks.release([r], 'holder');
    expect(await locks.acquire({ resource: r, runId: 'second', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toMatchObject({
      acquired: false,
      position: 2,
    });
    expect(await locks.acquire({ resource: r, runId: 'first', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toEqual({ acquired: true, fencingToken: 2 });
    const [view] = (await locks.list()).filter((candidate) => candidate.resource === r);
    expect(view.holder?.runId).toBe('first');
    expect(view.waiters.map((waiter) => waiter.runId)).toEqual(['second']);
  });

  it('lets an abandoned lock expire, and refuses the old holder by its fencing token', async () => {
    const r = resource();
    const old = await locks.acquire({ resource: r, runId: 'crashed', taskIndex: 0, leaseMs: 1_000, now: at(0) });
    expect(old).toEqual({ acquired: true, fencingToken: 1 });
    await expect(locks.assertHeld({ resource: r, runId: 'crashed', fencingToken: 1, now: at(500) })).resolves.toBeUndefined();
    const next = await locks.acquire({ resource: r, runId: 'next', taskIndex: 0, leaseMs: 60_000, now: at(2_000) });
    expect(next).toEqual({ acquired: true, fencingToken: 2 });
    await expect(locks.assertHeld({ resource: r, runId: 'crashed', fencingToken: 1, now: at(2_001) })).rejects.toBeInstanceOf(LeaseLost);
    await expect(locks.assertHeld({ resource: r, runId: 'next', fencingToken: 2, now: at(2_001) })).resolves.toBeUndefined();
  });

  it('releases only the holder’s own lock, and takes a cancelled waiter out of line', async () => {
    const r = resource();
    await locks.acquire({ resource: r, runId: 'a', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await locks.acquire({ resource: r, runId: 'b', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await locks.release([r], 'b');
    const [view] = (await locks.list()).filter((candidate) => candidate.resource === r);
    expect(view).toMatchObject({ holder: { runId: 'a' }, waiters: [] });
    await locks.release([r], 'a');
    expect((await locks.list()).some((candidate) => candidate.resource === r)).toBe(false);
  });

  it('orders resources one global way and leaves resource-less tasks out', () => {
    expect(lockableResources(['s3://b/2', 'noop://', undefined, 's3://b/1', 's3://b/2'])).toEqual(['s3://b/1', 's3://b/2']);
  });
});
