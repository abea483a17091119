import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

const REASON = 'undo the rollback test change';
let stack: EmbeddedStack;
let s3: S3Client;
let items: DynamoDBDocumentClient;

beforeAll(async () => {
  stack = await startTestStack('rollback-runs');
  s3 = new S3Client({ forcePathStyle: true });
  items = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});
afterAll(async () => {
  await stack?.stop();
});

const text = async (key: string, versionId?: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: key, VersionId: versionId }))).Body!.transformToString();
const exists = (key: string) =>
  s3.send(new HeadObjectCommand({ Bucket: stack.demoBucket, Key: key })).then(
    () => true,
    () => false,
  );
const versions = async (key: string) =>
  ((await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: key }))).Versions ?? [])
    .filter((version) => version.Key === key)
    .map((version) => ({ id: version.VersionId!, latest: version.IsLatest }));
const item = async (id: string) => (await items.send(new GetCommand({ TableName: stack.demoTable, Key: { id }, ConsistentRead: true }))).Item;

async function appliedRun(environment: string, tasks: unknown[], approve = false) {
  const created = await api(stack, 'POST', '/runs', { body: { goal: 'change to roll back', mode: 'APPLY', environment, reasonForAccess: REASON, tasks } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const runId = created.body.runId as string;
  if (approve) {
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL', 'parked');
    expect((await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: {} })).status).toBe(200);
  }
  const run = await waitForRun(stack, runId, 90_000);
  expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
  return runId;
}
const rollBack = (runId: string, body: unknown = { reason: REASON }) => api(stack, 'POST', `/runs/${runId}/rollback`, { body });
const getRun = async (runId: string) => (await api(stack, 'GET', `/runs/${runId}`)).body.run;

describe('rolling back a finished run', () => {
  it('undoes a succeeded run exactly, last task first: the object versions and the items are as before', { timeout: 180_000 }, async () => {
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: 'rollback/updated.txt', Body: 'version one\n' }));
    await items.send(new PutCommand({ TableName: stack.demoTable, Item: { id: 'rollback-item', text: 'before', n: 1 } }));
    const [v1] = await versions('rollback/updated.txt');
    const runId = await appliedRun('dev', [
      { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'rollback/updated.txt', body: 'version two\n' } },
      { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'rollback/created.txt', body: 'new object\n' } },
      { action: 'dynamodb.put-item', params: { table: stack.demoTable, item: { id: 'rollback-item', text: 'after', n: 2 } } },
      { action: 'dynamodb.put-item', params: { table: stack.demoTable, item: { id: 'rollback-created', text: 'new' } } },
    ]);
    const original = await getRun(runId);
    const written = original.tasks[0].outcome.versionId as string;
    expect(await text('rollback/updated.txt')).toBe('version two\n');

    const created = await rollBack(runId);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const rollbackId = created.body.runId as string;
    expect(created.body.rollbackOf).toBe(runId);
    const rollback = await waitForRun(stack, rollbackId, 90_000);
    expect(rollback.status, JSON.stringify(rollback.error)).toBe('SUCCEEDED');

    // Both runs point at each other; the undo tasks run in reverse order, each planned with a restore diff.
    const view = await getRun(rollbackId);
    expect(view.rollbackOf).toBe(runId);
    expect((await getRun(runId)).rolledBackBy).toBe(rollbackId);
    expect(view.tasks.map((task: any) => [task.action, task.params.of.taskIndex])).toEqual([
      ['run.undo-task', 3],
      ['run.undo-task', 2],
      ['run.undo-task', 1],
      ['run.undo-task', 0],
    ]);
    expect(view.tasks[3].plan.summary).toContain(`restore s3://${stack.demoBucket}/rollback/updated.txt to version ${v1.id}`);
    expect(view.tasks[3].plan.diff).toContain('-version two');
    expect(view.tasks[3].plan.diff).toContain('+version one');
    expect(view.tasks[2].plan.change).toBe('delete');
    expect(view.tasks[1].plan.diff).toContain('"before"');

    // S3: the history is kept (v1, the run's version, the restore), and the current content is v1's.
    const history = await versions('rollback/updated.txt');
    expect(history).toHaveLength(3);
    expect(history.map((version) => version.id)).toEqual(expect.arrayContaining([v1.id, written]));
    const restored = history.find((version) => version.latest)!;
    expect(restored.id).not.toBe(written);
    expect(await text('rollback/updated.txt', restored.id)).toBe(await text('rollback/updated.txt', v1.id));
    expect(await exists('rollback/created.txt')).toBe(false);
    // DynamoDB: the item as it was, attribute for attribute; the created one gone.
    expect(await item('rollback-item')).toEqual({ id: 'rollback-item', text: 'before', n: 1 });
    expect(await item('rollback-created')).toBeUndefined();

    // A run is rolled back once; a rollback run is not itself rolled back.
    expect((await rollBack(runId)).status).toBe(409);
    expect((await rollBack(rollbackId)).status).toBe(409);
  });

  it('refuses with StalePlan when a resource changed after the original run, and changes nothing', { timeout: 180_000 }, async () => {
    const runId = await appliedRun('dev', [
      { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'rollback/drifted.txt', body: 'by the run\n' } },
    ]);
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: 'rollback/drifted.txt', Body: 'changed by hand\n' }));
    const before = await versions('rollback/drifted.txt');

    const created = await rollBack(runId);
    expect(created.status).toBe(201);
    const rollback = await waitForRun(stack, created.body.runId, 90_000);
    expect(rollback.status).toBe('FAILED');
    expect(rollback.error.name).toBe('StalePlan');
    expect(rollback.error.message).toContain('changed after run');
    const events = (await api(stack, 'GET', `/runs/${rollback.id}/events`)).body.events as { type: string; payload?: any }[];
    expect(events.find((event) => event.type === 'TaskPlanFailed')?.payload.error.name).toBe('StalePlan');
    expect(events.map((event) => event.type)).not.toContain('TaskApplying');
    expect(await versions('rollback/drifted.txt')).toEqual(before);
    expect(await text('rollback/drifted.txt')).toBe('changed by hand\n');
  });

  it('parks a prod rollback for approval, with the restore diff to review, and applies it once approved', { timeout: 240_000 }, async () => {
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: 'rollback/prod.txt', Body: 'prod before\n' }));
    const runId = await appliedRun(
      'prod',
      [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'rollback/prod.txt', body: 'prod after\n' } }],
      true,
    );
    const created = await rollBack(runId);
    expect(created.status).toBe(201);
    const parked = await waitForRunWhere(stack, created.body.runId, (run) => run.status === 'AWAITING_APPROVAL', 'rollback parked for approval');
    expect(parked.approval).toMatchObject({ state: 'PENDING', quorum: 1, approvers: ['dev-approver', 'dev-admin'] });
    const view = await getRun(parked.id);
    expect(view.tasks[0].plan.diff).toContain('+prod before');
    expect(view.tasks[0].verdicts).toMatchObject({ autonomy: { category: 'ROLLBACK', unattended: false }, approval: { required: true } });
    expect(await text('rollback/prod.txt')).toBe('prod after\n'); // nothing restored before the approval
    expect((await api(stack, 'POST', `/runs/${parked.id}/approve`, { token: 'dev-approver', body: { comment: 'restore it' } })).status).toBe(200);
    expect((await waitForRun(stack, parked.id, 90_000)).status).toBe('SUCCEEDED');
    expect(await text('rollback/prod.txt')).toBe('prod before\n');
  });

  it('answers 4xx naming the problem: no reason, a placeholder reason, a PLAN run, an unknown run', async () => {
    const plan = await api(stack, 'POST', '/runs', { body: { goal: 'plan only', mode: 'PLAN', tasks: [{ action: 'noop', params: {} }] } });
    await waitForRun(stack, plan.body.runId);
    const cases: [string, unknown, number, string][] = [
      [plan.body.runId, {}, 400, 'reason'],
      [plan.body.runId, { reason: 'n/a' }, 400, 'reason'],
      [plan.body.runId, { reason: REASON, extra: 1 }, 400, 'extra'],
      [plan.body.runId, { reason: REASON }, 409, 'id'],
      ['no-such-run', { reason: REASON }, 404, 'id'],
    ];
    for (const [runId, body, status, field] of cases) {
      const refused = await rollBack(runId, body);
      expect(refused.status, JSON.stringify(refused.body)).toBe(status);
      expect(JSON.stringify(refused.body.error)).toContain(field);
    }
    const approverOnly = await api(stack, 'POST', `/runs/${plan.body.runId}/rollback`, { token: 'dev-approver', body: { reason: REASON } });
    expect(approverOnly.status).toBe(403);
  });
});
