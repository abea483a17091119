import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../support/test-stack.ts';

/** The delete, copy and update actions through the whole workflow: HTTP → Step Functions → executors. */
let stack: EmbeddedStack;
let s3: S3Client;
let items: DynamoDBDocumentClient;

beforeAll(async () => {
  stack = await startTestStack('target-actions');
  s3 = new S3Client({ forcePathStyle: true });
  items = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});
afterAll(async () => {
  await stack?.stop();
});

// Each apply forks a sandboxed Node process: on a loaded machine a four-task run takes a while.
const RUN_WAIT_MS = 240_000;
const TEST_MS = 300_000;
const REASON = 'end-to-end test of the object and item actions';
async function createRun(tasks: unknown[]) {
  const response = await api(stack, 'POST', '/runs', { body: { goal: 'object and item actions', mode: 'APPLY', reasonForAccess: REASON, tasks } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.runId as string;
}
const put = async (key: string, body: string, bucket = stack.demoBucket) =>
  (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId!;
const bodyOf = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: key }))).Body!.transformToString();
const exists = (key: string) =>
  s3.send(new HeadObjectCommand({ Bucket: stack.demoBucket, Key: key })).then(
    () => true,
    () => false,
  );
const versionCount = async (key: string, bucket = stack.demoBucket) => {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].filter((entry) => entry.Key === key).length;
};
const itemOf = async (id: string) => (await items.send(new GetCommand({ TableName: stack.demoTable, Key: { id }, ConsistentRead: true }))).Item;
const putItem = (item: Record<string, unknown>) => items.send(new PutCommand({ TableName: stack.demoTable, Item: item }));

function tasksFor(prefix: string) {
  return [
    {
      action: 's3.copy-object',
      params: { source: { bucket: stack.demoBucket, key: `${prefix}/staged.txt` }, destination: { bucket: stack.demoBucket, key: `${prefix}/live.txt` } },
    },
    { action: 's3.delete-object', params: { bucket: stack.demoBucket, key: `${prefix}/obsolete.txt` } },
    {
      action: 'dynamodb.update-item',
      params: { table: stack.demoTable, key: { id: `${prefix}-flags` }, set: { beta: true }, remove: ['legacy'], add: { revision: 1 } },
    },
    { action: 'dynamodb.delete-item', params: { table: stack.demoTable, key: { id: `${prefix}-old` } } },
  ];
}
async function seed(prefix: string) {
  await put(`${prefix}/staged.txt`, 'new config\n');
  await put(`${prefix}/live.txt`, 'old config\n');
  await put(`${prefix}/obsolete.txt`, 'obsolete\n');
  await putItem({ id: `${prefix}-flags`, beta: false, legacy: 'x', revision: 3 });
  await putItem({ id: `${prefix}-old`, text: 'old' });
}

describe('s3.copy-object, s3.delete-object, dynamodb.update-item, dynamodb.delete-item in a run', () => {
  it(
    'plan, apply (each in the sandbox) and verify: the run succeeds with every effect in place',
    async () => {
      await seed('ok');
      const runId = await createRun(tasksFor('ok'));
      const run = await waitForRun(stack, runId, RUN_WAIT_MS);
      expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
      expect(run.tasks.map((task: { status: string }) => task.status)).toEqual(['VERIFIED', 'VERIFIED', 'VERIFIED', 'VERIFIED']);
      expect(run.tasks.map((task: { plan: { change: string } }) => task.plan.change)).toEqual(['update', 'delete', 'update', 'delete']);
      expect(run.tasks[0].plan.diff).toContain('+new config');
      expect(run.tasks[1].plan.diff).toContain('-obsolete');
      for (const task of run.tasks) expect(task.outcome.isolation.permissionModel).toBe(true);

      expect(await bodyOf('ok/live.txt')).toBe('new config\n');
      expect(await exists('ok/obsolete.txt')).toBe(false);
      expect(await itemOf('ok-flags')).toEqual({ id: 'ok-flags', beta: true, revision: 4 });
      expect(await itemOf('ok-old')).toBeUndefined();
    },
    TEST_MS,
  );

  it(
    'rolls every one back, in reverse order, when a later task fails verification',
    async () => {
      await seed('rb');
      const runId = await createRun([...tasksFor('rb'), { action: 'noop', params: { failIn: 'verify' } }]);
      const run = await waitForRun(stack, runId, RUN_WAIT_MS);
      expect(run.status).toBe('ROLLED_BACK');
      expect(run.tasks.map((task: { status: string }) => task.status)).toEqual(Array(5).fill('ROLLED_BACK'));

      expect(await bodyOf('rb/live.txt')).toBe('old config\n');
      expect(await bodyOf('rb/obsolete.txt')).toBe('obsolete\n');
      expect(await itemOf('rb-flags')).toEqual({ id: 'rb-flags', beta: false, legacy: 'x', revision: 3 });
      expect(await itemOf('rb-old')).toEqual({ id: 'rb-old', text: 'old' });
      const { body } = await api(stack, 'GET', `/runs/${runId}/events`);
      const undone = body.events.filter((event: { type: string }) => event.type === 'TaskRolledBack').map((event: { taskIndex: number }) => event.taskIndex);
      expect(undone).toEqual([4, 3, 2, 1, 0]);
    },
    TEST_MS,
  );

  it(
    'refuses a copy from a bucket the environment does not manage (DENIED, ResourceNotManaged), writing nothing',
    async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'team-secrets' }));
      await put('payroll.csv', 'name,salary\n', 'team-secrets');
      const runId = await createRun([
        {
          action: 's3.copy-object',
          params: { source: { bucket: 'team-secrets', key: 'payroll.csv' }, destination: { bucket: stack.demoBucket, key: 'leak/payroll.csv' } },
        },
      ]);
      const run = await waitForRun(stack, runId, RUN_WAIT_MS);
      expect(run.status).toBe('DENIED');
      expect(run.error.name).toBe('ResourceNotManaged');
      expect(run.tasks[0].plan).toBeUndefined();
      const { body } = await api(stack, 'GET', `/runs/${runId}/events`);
      const refusal = body.events.find((event: { type: string }) => event.type === 'ResourceNotManaged');
      expect(refusal.payload).toMatchObject({ gate: 'plan', resource: 's3://team-secrets/payroll.csv' });
      expect(await versionCount('leak/payroll.csv')).toBe(0);
      expect(await versionCount('payroll.csv', 'team-secrets')).toBe(1);
    },
    TEST_MS,
  );
});
