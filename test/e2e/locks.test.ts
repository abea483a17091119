import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTask } from '../../functions/core/runs/apply-task.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, until, waitForRun } from '../support/test-stack.ts';

const REASON = 'advisory locks end-to-end test';
let stack: EmbeddedStack;
let s3: S3Client;

beforeAll(async () => {
  process.env.MAESTRO_CONFIG__admission__maxActiveRuns = '3';
  stack = await startTestStack('locks');
  s3 = new S3Client({ forcePathStyle: true });
});
afterAll(async () => {
  await stack?.stop();
});

const put = (key: string, body: string) => ({ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body } });
async function start(tasks: unknown[]) {
  const response = await api(stack, 'POST', '/runs', { body: { goal: 'locks', mode: 'APPLY', reasonForAccess: REASON, tasks } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.runId as string;
}
const events = async (runId: string) => (await api(stack, 'GET', `/runs/${runId}/events`)).body.events as { type: string; ts: string; taskIndex?: number }[];
const lockOf = async (resource: string) =>
  ((await api(stack, 'GET', '/locks')).body.locks as { resource: string; holder?: { runId: string }; waiters: { runId: string }[] }[]).find(
    (lock) => lock.resource === resource,
  );

describe('advisory locks per resource', () => {
  it('applies two runs on one resource one after the other, the second waiting in line', async () => {
    const key = 'locks/shared.txt';
    const resource = `s3://${stack.demoBucket}/${key}`;
    const first = await start([put(key, 'first\n'), { action: 'noop', params: { sleepMs: 1500 } }]);
    await until(async () => (await api(stack, 'GET', `/runs/${first}`)).body.run.tasks[0].status === 'APPLIED', 'the first run to write');
    const second = await start([put(key, 'second\n')]);
    await until(async () => (await events(second)).some((event) => event.type === 'WaitingForLock'), 'the second run to wait');
    const lock = await lockOf(resource);
    expect(lock?.holder?.runId).toBe(first);
    expect(lock?.waiters.map((waiter) => waiter.runId)).toEqual([second]);

    expect((await waitForRun(stack, first)).status).toBe('SUCCEEDED');
    expect((await waitForRun(stack, second)).status).toBe('SUCCEEDED');
    const firstEnded = Date.parse((await events(first)).at(-1)!.ts);
    const secondApplied = Date.parse((await events(second)).find((event) => event.type === 'TaskApplying')!.ts);
    expect(secondApplied).toBeGreaterThanOrEqual(firstEnded);
    const body = await (await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: key }))).Body!.transformToString();
    expect(body).toBe('second\n');
    expect(await lockOf(resource)).toBeUndefined();
  });

  it('releases a cancelled run’s locks and its place in line, so nothing stays stuck', async () => {
    const key = 'locks/cancel.txt';
    const resource = `s3://${stack.demoBucket}/${key}`;
    // The holder's second task outlasts the queueing and both cancels, however loaded the machine.
    const holder = await start([put(key, 'holder\n'), { action: 'noop', params: { sleepMs: 15_000 } }]);
    await until(async () => (await api(stack, 'GET', `/runs/${holder}`)).body.run.tasks[0].status === 'APPLIED', 'the holder to write');
    const waiter = await start([put(key, 'waiter\n')]);
    await until(async () => (await lockOf(resource))?.waiters.some((entry) => entry.runId === waiter) ?? false, 'the waiter to queue');

    expect((await api(stack, 'POST', `/runs/${waiter}/cancel`, { body: { reason: 'no longer needed' } })).status).toBe(202);
    expect((await api(stack, 'POST', `/runs/${holder}/cancel`, { body: { reason: 'abort the change' } })).status).toBe(202);
    expect((await waitForRun(stack, waiter)).status).toBe('CANCELLED');
    expect((await waitForRun(stack, holder)).status).toBe('CANCELLED');
    await until(async () => (await lockOf(resource)) === undefined, 'every lock on the resource to be gone');
  });

  it('a lock taken between the apply’s read and its claim refuses the claim: the apply joins the line and writes nothing', async () => {
    const key = 'locks/raced.txt';
    const resource = `s3://${stack.demoBucket}/${key}`;
    // A prod run parks for approval with its plan (and what it locks) recorded; its approval is written
    // here rather than sent to the workflow, so the apply below is the only one.
    const created = await api(stack, 'POST', '/runs', {
      body: { goal: 'locks race', mode: 'APPLY', environment: 'prod', reasonForAccess: REASON, tasks: [put(key, 'raced\n')] },
    });
    const runId = created.body.runId as string;
    await until(async () => (await api(stack, 'GET', `/runs/${runId}`)).body.run.status === 'AWAITING_APPROVAL', 'the run to park');
    const parked = (await stack.deps.runs.get(runId))!;
    expect(parked.lockResources).toEqual([resource]);
    await stack.deps.runs.commit(runId, {
      run: { approval: { ...parked.approval!, state: 'APPROVED', decidedBy: 'dev-approver', decidedAt: new Date().toISOString() } },
      events: [{ type: 'ApprovalGranted', message: 'approved for the race test' }],
    });
    // The real stores, with another run taking the lock right after the apply has read it with the run.
    const reads = stack.deps.applyReads!;
    const racing = new Proxy(stack.deps, {
      get: (target, name) =>
        name === 'applyReads'
          ? {
              quiesceTargets: reads.quiesceTargets,
              read: async (input: Parameters<typeof reads.read>[0]) => {
                const snapshot = await reads.read(input);
                await target.locks.acquire({ resource, runId: 'interloper', taskIndex: 0, leaseMs: 60_000, now: new Date() });
                return snapshot;
              },
            }
          : Reflect.get(target, name),
    });
    await expect(applyTask(racing, { runId, taskIndex: 0, lockHint: [resource] })).rejects.toMatchObject({ name: 'ResourceLocked' });
    const types = (await events(runId)).map((event) => event.type);
    expect(types).toContain('WaitingForLock');
    expect(types).not.toContain('TaskApplying');
    expect((await stack.deps.runs.getWithTasks(runId))!.tasks[0].status).toBe('PLANNED');
    await expect(s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: key }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect(await lockOf(resource)).toMatchObject({ holder: { runId: 'interloper' }, waiters: [{ runId }] });
    await stack.deps.locks.release([resource], 'interloper');
    await api(stack, 'POST', `/runs/${runId}/cancel`, { body: { reason: 'end of the race test' } });
  });

  it('refuses new runs with 429 and Retry-After above the active-run limit', async () => {
    const slow = await Promise.all([0, 1, 2].map(() => start([{ action: 'noop', params: { sleepMs: 2500 } }])));
    const refused = await api(stack, 'POST', '/runs', { body: { goal: 'one too many', mode: 'PLAN', tasks: [{ action: 'noop' }] } });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RunsAtCapacity');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    for (const runId of slow) expect((await waitForRun(stack, runId)).status).toBe('SUCCEEDED');
    const admitted = await api(stack, 'POST', '/runs', { body: { goal: 'room again', mode: 'PLAN', tasks: [{ action: 'noop' }] } });
    expect(admitted.status).toBe(201);
  });
});
