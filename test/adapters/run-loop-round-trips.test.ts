import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoApplyReads } from '../../functions/adapters/dynamo-apply-reads.ts';
import { DynamoControlStore } from '../../functions/adapters/dynamo-control-store.ts';
import { DynamoDrRepository } from '../../functions/adapters/dynamo-dr-repository.ts';
import { DynamoLockStore } from '../../functions/adapters/dynamo-lock-store.ts';
import { DynamoRunRepository } from '../../functions/adapters/dynamo-run-repository.ts';
import { InvalidRunTransition, LeaseLost } from '../../functions/core/errors.ts';
import { prepareLocks } from '../../functions/core/locks/model.ts';
import type { Run, Task } from '../../functions/core/runs/model.ts';
import { ensureStateTable } from '../../local/dynamodb/tables.ts';
import { createOneTaskRun } from '../support/one-task-run.ts';

/**
 * The run loop's folded round trips: each shortcut (a head the caller already has, locks taken in one
 * transaction, the fence inside the claim, the apply's reads in one TransactGetItems) refuses exactly
 * what the long way refuses.
 */
const client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const tableName = `loop-${randomBytes(3).toString('hex')}-maestro-state`;
const repository = new DynamoRunRepository({ client: documents, tableName });
const locks = new DynamoLockStore({ client: documents, tableName });
const resource = () => `s3://bucket/${randomUUID()}`;

const newRun = (status: Run['status'] = 'PLANNED'): Promise<{ run: Run; task: Task }> => createOneTaskRun(repository, { goal: 'loop', status });

const eventTypes = async (runId: string) => (await repository.listEvents(runId)).items.map((event) => event.type);
const lockItems = async (r: string) =>
  (await documents.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `LOCK#${r}` } })))
    .Items ?? [];

beforeAll(async () => {
  await ensureStateTable(client, tableName);
});

describe('a commit on the head the caller has', () => {
  it('writes on a current head without reading it, and on a stale one re-reads and keeps the chain', async () => {
    const { run } = await newRun();
    const first = await repository.commit(run.id, { head: run, events: [{ type: 'A', message: 'a' }] });
    expect(first.eventSeq).toBe(2);
    // `run` is now stale (eventSeq 1): the commit re-reads and appends after A.
    const second = await repository.commit(run.id, { head: run, events: [{ type: 'B', message: 'b' }] });
    expect(second.eventSeq).toBe(3);
    expect(await eventTypes(run.id)).toEqual(['RunCreated', 'A', 'B']);
    const events = (await repository.listEvents(run.id)).items;
    expect(events[2].prevHash).toBe(events[1].hash);
  });

  it('checks an expected status on the fresh head, not on a stale one', async () => {
    const { run } = await newRun('PLANNED');
    await repository.commit(run.id, { run: { status: 'APPLYING' }, events: [{ type: 'RunApplying', message: 'x' }] });
    // The caller's head still says PLANNED; the run is APPLYING.
    await expect(repository.commit(run.id, { head: run, expectStatus: ['PLANNED'], events: [{ type: 'X', message: 'x' }] })).rejects.toBeInstanceOf(
      InvalidRunTransition,
    );
    const ok = await repository.commit(run.id, { head: run, expectStatus: ['APPLYING'], events: [{ type: 'Y', message: 'y' }] });
    expect(ok.status).toBe('APPLYING');
    expect(await eventTypes(run.id)).toEqual(['RunCreated', 'RunApplying', 'Y']);
  });
});

describe('the fence inside the claim', () => {
  it('claims while the run holds the lock with its token, and refuses (LeaseLost, nothing written) once it passed on', async () => {
    const { run } = await newRun();
    const r = resource();
    const now = Date.now();
    const tokens = await locks.acquireAll({ resources: [r], runId: run.id, taskIndex: 0, leaseMs: 60_000, now: new Date(now) });
    expect(tokens).toEqual({ [r]: 1 });
    const claim = (fencingToken: number) =>
      repository.commit(run.id, {
        head: run,
        fence: { resource: r, fencingToken, now: Date.now() },
        tasks: [{ index: 0, claim: { now: Date.now() }, patch: { status: 'APPLYING', attempt: 1, leaseExpiresAt: Date.now() + 10_000 } }],
        events: [{ type: 'TaskApplying', message: 'claim' }],
      });
    await expect(claim(2)).rejects.toBeInstanceOf(LeaseLost);
    expect(await eventTypes(run.id)).toEqual(['RunCreated']);
    expect((await repository.getWithTasks(run.id))!.tasks[0].status).toBe('PLANNED');
    await locks.release([r], run.id);
    await expect(claim(1)).rejects.toBeInstanceOf(LeaseLost);
    expect((await repository.getWithTasks(run.id))!.tasks[0].status).toBe('PLANNED');
    await locks.acquireAll({ resources: [r], runId: run.id, taskIndex: 0, leaseMs: 60_000, now: new Date() });
    const claimed = await claim(2);
    expect(claimed.eventSeq).toBe(2);
    expect((await repository.getWithTasks(run.id))!.tasks[0].status).toBe('APPLYING');
  });
});

describe('locks taken in the claim', () => {
  const claimTaking = (run: Run, prepared: Parameters<typeof repository.commit>[1]['takeLocks']) =>
    repository.commit(run.id, {
      head: run,
      takeLocks: prepared,
      tasks: [{ index: 0, claim: { now: Date.now() }, patch: { status: 'APPLYING', attempt: 1, leaseExpiresAt: Date.now() + 10_000 } }],
      events: [{ type: 'TaskApplying', message: 'claim' }],
    });

  it('takes the prepared locks with the claim, in one transaction, with the next fencing tokens', async () => {
    const { run } = await newRun();
    const [a, b] = [resource(), resource()].sort();
    await locks.acquire({ resource: b, runId: 'earlier', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await locks.release([b], 'earlier');
    const prepared = await locks.prepareAll({ resources: [a, b], runId: run.id, taskIndex: 0, leaseMs: 60_000, now: new Date() });
    expect(prepared?.tokens).toEqual({ [a]: 1, [b]: 2 });
    // Prepared, not written.
    expect((await lockItems(a)).filter((item) => item.runId)).toEqual([]);
    const claimed = await claimTaking(run, prepared);
    expect(claimed.eventSeq).toBe(2);
    expect((await lockItems(a))[0]).toMatchObject({ runId: run.id, fencingToken: 1 });
    expect((await lockItems(b))[0]).toMatchObject({ runId: run.id, fencingToken: 2 });
    expect((await repository.getWithTasks(run.id))!.tasks[0].status).toBe('APPLYING');
  });

  it('refuses the whole claim (ConcurrentModification, changed: locks; nothing written) when a lock was taken since it was read', async () => {
    const { run } = await newRun();
    const [a, b] = [resource(), resource()].sort();
    const prepared = await locks.prepareAll({ resources: [a, b], runId: run.id, taskIndex: 0, leaseMs: 60_000, now: new Date() });
    // Another run takes b between the read and the claim.
    expect(await locks.acquire({ resource: b, runId: 'other', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toMatchObject({ acquired: true });
    await expect(claimTaking(run, prepared)).rejects.toMatchObject({ name: 'ConcurrentModification', details: { changed: 'locks' } });
    expect(await eventTypes(run.id)).toEqual(['RunCreated']);
    expect((await repository.getWithTasks(run.id))!.tasks[0].status).toBe('PLANNED');
    expect((await lockItems(a)).filter((item) => item.runId)).toEqual([]);
    expect((await lockItems(b))[0]).toMatchObject({ runId: 'other', fencingToken: 1 });
  });

  it('refuses it too when somebody joined a lock’s line since it was read (the token unchanged), and prepares nothing then', async () => {
    const { run } = await newRun();
    const r = resource();
    await locks.acquire({ resource: r, runId: 'holder', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await locks.release([r], 'holder');
    const prepared = await locks.prepareAll({ resources: [r], runId: run.id, taskIndex: 0, leaseMs: 60_000, now: new Date() });
    expect(prepared?.tokens).toEqual({ [r]: 2 });
    // A waiter's note on the lock (what joining its line writes), the token unchanged.
    await documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: `LOCK#${r}`, sk: 'LOCK' },
        UpdateExpression: 'SET lastWaitAt = :now',
        ExpressionAttributeValues: { ':now': Date.now() },
      }),
    );
    await expect(claimTaking(run, prepared)).rejects.toMatchObject({ name: 'ConcurrentModification', details: { changed: 'locks' } });
    expect((await repository.getWithTasks(run.id))!.tasks[0].status).toBe('PLANNED');
    expect((await lockItems(r))[0]).toMatchObject({ fencingToken: 1 });
    expect((await lockItems(r))[0].runId).toBeUndefined();
    expect(await locks.prepareAll({ resources: [r], runId: run.id, taskIndex: 0, leaseMs: 60_000, now: new Date() })).toBeUndefined();
  });
});

describe('locks given up in the finishing commit', () => {
  it('releases the locks the run holds with their tokens in its commit, and refuses the whole commit (changed: locks) once one passed on', async () => {
    const { run } = await newRun();
    const [a, b] = [resource(), resource()].sort();
    const tokens = (await locks.acquireAll({ resources: [a, b], runId: run.id, taskIndex: 0, leaseMs: 60_000, now: new Date() }))!;
    const finish = (release: Record<string, number>) =>
      repository.commit(run.id, {
        run: { status: 'SUCCEEDED' },
        events: [{ type: 'RunSucceeded', message: 'done' }],
        releaseLocks: { runId: run.id, tokens: release },
      });
    // A token the run no longer has: nothing is written, neither the run nor any lock.
    await expect(finish({ ...tokens, [b]: tokens[b] + 1 })).rejects.toMatchObject({ name: 'ConcurrentModification', details: { changed: 'locks' } });
    expect(await eventTypes(run.id)).toEqual(['RunCreated']);
    expect((await lockItems(a))[0]).toMatchObject({ runId: run.id });
    const finished = await finish(tokens);
    expect(finished.status).toBe('SUCCEEDED');
    expect((await lockItems(a))[0].runId).toBeUndefined();
    expect((await lockItems(b))[0]).toMatchObject({ fencingToken: tokens[b] });
    expect((await lockItems(b))[0].runId).toBeUndefined();
  });
});

describe('taking all of a run’s locks in one transaction', () => {
  it('takes free locks together, renews its own, and takes nothing when one is held by another run', async () => {
    const [a, b, c] = [resource(), resource(), resource()].sort();
    const now = new Date();
    expect(await locks.acquireAll({ resources: [a, b], runId: 'one', taskIndex: 0, leaseMs: 60_000, now })).toEqual({ [a]: 1, [b]: 1 });
    expect(await locks.acquireAll({ resources: [a, b], runId: 'one', taskIndex: 1, leaseMs: 60_000, now })).toEqual({ [a]: 1, [b]: 1 });
    // b is held by run one: run two takes neither c nor b.
    expect(await locks.acquireAll({ resources: [b, c], runId: 'two', taskIndex: 0, leaseMs: 60_000, now })).toBeUndefined();
    expect((await lockItems(c)).filter((item) => item.runId)).toEqual([]);
    await locks.release([a, b], 'one');
    expect((await lockItems(a))[0].runId).toBeUndefined();
    // Released: the next holder gets the next fencing token.
    expect(await locks.acquireAll({ resources: [b, c], runId: 'two', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toEqual({ [b]: 2, [c]: 1 });
  });

  it('leaves a lock somebody queued for to the line, first come first served', async () => {
    const r = resource();
    expect(await locks.acquire({ resource: r, runId: 'holder', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toMatchObject({ acquired: true });
    expect(await locks.acquire({ resource: r, runId: 'waiter', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toMatchObject({
      acquired: false,
      position: 1,
    });
    await locks.release([r], 'holder');
    // Free, but a run is in line: a newcomer's one-transaction take refuses, and the per-lock take queues it second.
    expect(await locks.acquireAll({ resources: [r], runId: 'newcomer', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toBeUndefined();
    expect(await locks.acquire({ resource: r, runId: 'newcomer', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toMatchObject({
      acquired: false,
      position: 2,
    });
    expect(await locks.acquire({ resource: r, runId: 'waiter', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toMatchObject({
      acquired: true,
      fencingToken: 2,
    });
  });

  it('releases in one transaction only what the run holds, and otherwise one by one (waiters taken out of line)', async () => {
    const [a, b] = [resource(), resource()].sort();
    await locks.acquire({ resource: a, runId: 'x', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await locks.acquire({ resource: b, runId: 'y', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    expect(await locks.acquire({ resource: b, runId: 'x', taskIndex: 0, leaseMs: 60_000, now: new Date() })).toMatchObject({ acquired: false });
    await locks.release([a, b], 'x');
    expect((await lockItems(a)).find((item) => item.sk === 'LOCK')?.runId).toBeUndefined();
    expect((await lockItems(b)).find((item) => item.sk === 'LOCK')?.runId).toBe('y');
    expect((await lockItems(b)).filter((item) => String(item.sk).startsWith('WAIT#'))).toEqual([]);
  });
});

describe('the apply’s reads in one TransactGetItems', () => {
  it('returns the run, its task, the control record and the quiesce flags the DR repository set', async () => {
    const { run } = await newRun();
    const control = new DynamoControlStore({ client: documents, tableName });
    const dr = new DynamoDrRepository({ client: documents, tableName });
    const reads = new DynamoApplyReads({ client: documents, tableName, quiesceTargets: ['demo', 'other'] });
    const initialControl = { killSwitch: { engaged: false } };
    const before = await reads.read({ runId: run.id, taskIndex: 0, initialControl });
    expect(before).toMatchObject({ run: { id: run.id, status: 'PLANNED' }, task: { index: 0, status: 'PLANNED' }, quiesceFlags: [] });
    const flag = { target: 'demo', jobId: 'job', tables: ['t'], prefixes: [{ bucket: 'b', prefix: 'p/' }], until: new Date(Date.now() + 60_000).toISOString() };
    await dr.quiesce(flag);
    await control.setKillSwitch({ engaged: true, reason: 'test', changedBy: 'admin', changedAt: new Date().toISOString() }, 'c');
    const after = await reads.read({ runId: run.id, taskIndex: 0, initialControl });
    expect(after!.quiesceFlags!).toEqual(await dr.listQuiesceFlags());
    expect(after!.quiesceFlags).toEqual([flag]);
    expect(after!.control).toEqual(await control.read(initialControl));
    expect(after!.control!.killSwitch.engaged).toBe(true);
    expect(await reads.read({ runId: randomUUID(), taskIndex: 0, initialControl })).toBeUndefined();
    await dr.unquiesce('demo', 'job');
  });

  it('reads the locks asked for with the run, as the lock store prepares from them (never taken: undefined)', async () => {
    const { run } = await newRun();
    const reads = new DynamoApplyReads({ client: documents, tableName, quiesceTargets: ['demo'] });
    const [free, held, queued] = [resource(), resource(), resource()].sort();
    await locks.acquire({ resource: held, runId: 'holder', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await locks.acquire({ resource: queued, runId: 'first', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    await locks.acquire({ resource: queued, runId: 'second', taskIndex: 0, leaseMs: 60_000, now: new Date() });
    const snapshot = await reads.read({ runId: run.id, taskIndex: 0, initialControl: { killSwitch: { engaged: false } }, locks: [free, held, queued] });
    expect(snapshot).toMatchObject({ run: { id: run.id }, task: { index: 0 }, quiesceFlags: [] });
    expect(snapshot!.locks).toEqual([
      undefined,
      { fencingToken: 1, runId: 'holder', leaseExpiresAt: expect.any(Number) },
      { fencingToken: 1, runId: 'first', leaseExpiresAt: expect.any(Number), lastWaitAt: expect.any(Number) },
    ]);
    // The same decision as the lock store's own read: a held lock (or one with a line) takes nothing.
    const input = { runId: run.id, taskIndex: 0, leaseMs: 60_000, now: new Date() };
    expect(prepareLocks(snapshot!.locks!, { ...input, resources: [free, held, queued] })).toBeUndefined();
    expect(await locks.prepareAll({ ...input, resources: [free, held, queued] })).toBeUndefined();
    expect(prepareLocks(snapshot!.locks!.slice(0, 1), { ...input, resources: [free] })).toEqual(await locks.prepareAll({ ...input, resources: [free] }));
    // Not asked: not read.
    expect((await reads.read({ runId: run.id, taskIndex: 0, initialControl: { killSwitch: { engaged: false } } }))!.locks).toBeUndefined();
  });
});
