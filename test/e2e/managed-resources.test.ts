import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, until, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

/**
 * The attacks of an operator who names Maestro's own state in an action's params: each must end
 * DENIED with ResourceNotManaged before the action's plan reads anything, and change nothing. The
 * effects are counted where they live: state-table items, vault object versions, the run's view.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const REASON = 'managed resources end-to-end test';
const VAULT = 'maestro-artifacts';
let stack: EmbeddedStack;
let s3: S3Client;
let items: DynamoDBDocumentClient;

beforeAll(async () => {
  stack = await startTestStack('managed');
  s3 = new S3Client({ forcePathStyle: true });
  items = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});
afterAll(async () => {
  await stack?.stop();
});

const eventsOf = async (runId: string) => (await api(stack, 'GET', `/runs/${runId}/events`)).body.events as { type: string; message: string; payload?: any }[];

async function startRun(body: Record<string, unknown>, token = 'dev-operator') {
  const response = await api(stack, 'POST', '/runs', { token, body: { goal: 'managed resources', mode: 'APPLY', reasonForAccess: REASON, ...body } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.runId as string;
}

const putItem = (table: string, item: Record<string, unknown>) => ({ action: 'dynamodb.put-item', params: { table, item } });
const stateItem = async (key: { pk: string; sk: string }) =>
  (await items.send(new GetCommand({ TableName: stack.stateTable, Key: key, ConsistentRead: true }))).Item;
/** Every item of one partition of the state table (a run: its head, tasks and events). */
const partition = async (pk: string) =>
  (
    await items.send(
      new QueryCommand({ TableName: stack.stateTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }),
    )
  ).Items ?? [];
const vaultVersions = async (prefix: string) => {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: VAULT, Prefix: prefix }));
  return [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].length;
};

/** The refusal every attack must meet: DENIED at the plan gate, the resource named, no plan recorded. */
async function expectRefused(runId: string, resource: string) {
  const run = await waitForRun(stack, runId);
  expect(run.status).toBe('DENIED');
  expect(run.error.name).toBe('ResourceNotManaged');
  expect(run.tasks.every((task: { plan?: unknown }) => task.plan === undefined)).toBe(true);
  expect(JSON.stringify(run)).not.toContain('"preconditions"');
  const events = await eventsOf(runId);
  const refusal = events.find((event) => event.type === 'ResourceNotManaged');
  expect(refusal?.payload).toMatchObject({ gate: 'plan', resource, environment: run.environment });
  expect(events.some((event) => event.type === 'TaskPlanned' || event.type === 'TaskApplying')).toBe(false);
  expect(JSON.stringify(events)).not.toContain('"preconditions"');
  return run;
}

describe('managed resources: actions touch only what the environment declares', () => {
  it('refuses a forged kill switch put into the state table: DENIED, the control item unchanged, GET /control not engaged', async () => {
    const before = await stateItem({ pk: 'CONTROL', sk: 'CONTROL' });
    const forged = {
      pk: 'CONTROL',
      sk: 'CONTROL',
      entity: 'Control',
      killSwitch: { engaged: true, reason: 'forged', changedBy: 'dev-admin', changedAt: new Date().toISOString() },
    };
    const runId = await startRun({ tasks: [putItem(stack.stateTable, forged)] });
    await expectRefused(runId, `dynamodb://${stack.stateTable}`);
    expect(await stateItem({ pk: 'CONTROL', sk: 'CONTROL' })).toEqual(before);
    const control = await api(stack, 'GET', '/control');
    expect(control.body.killSwitch.engaged).toBe(false);
  });

  it('refuses a forged approval vote on a parked run: DENIED, every item of the victim run unchanged', async () => {
    const victim = await startRun({
      environment: 'prod',
      tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'managed/parked.txt', body: 'parked\n' } }],
    });
    await waitForRunWhere(stack, victim, (run) => run.status === 'AWAITING_APPROVAL', 'AWAITING_APPROVAL');
    // Settled: the approvers have been notified (the last event a parked run writes on its own).
    await until(async () => (await eventsOf(victim)).some((event) => event.type === 'ApprovalNotificationsSent'), 'the approvers to be notified');
    const before = await partition(`RUN#${victim}`);
    const head = before.find((item) => item.sk === 'RUN')!;
    const forged = { ...head, approval: { ...head.approval, decisions: [{ by: 'dev-admin', decision: 'approve', at: new Date().toISOString(), via: 'api' }] } };
    const runId = await startRun({ tasks: [putItem(stack.stateTable, forged)] });
    await expectRefused(runId, `dynamodb://${stack.stateTable}`);
    expect(await partition(`RUN#${victim}`)).toEqual(before);
    await api(stack, 'POST', `/runs/${victim}/cancel`, { body: { reason: 'test cleanup' } });
  });

  it("refuses rewriting a finished run's status, goal and requester: DENIED, the run unchanged", async () => {
    const finished = await startRun({ tasks: [{ action: 'noop', params: {} }] });
    expect((await waitForRun(stack, finished)).status).toBe('SUCCEEDED');
    const before = await partition(`RUN#${finished}`);
    const head = before.find((item) => item.sk === 'RUN')!;
    const runId = await startRun({ tasks: [putItem(stack.stateTable, { ...head, status: 'FAILED', goal: 'rewritten', requestedBy: 'someone-else' })] });
    await expectRefused(runId, `dynamodb://${stack.stateTable}`);
    expect(await partition(`RUN#${finished}`)).toEqual(before);
  });

  it('refuses a PLAN run that would read a state item back: no preconditions, nothing of the item in the answer', async () => {
    const secret = await startRun({ goal: 'a goal only its requester should read', tasks: [{ action: 'noop', params: {} }] });
    await waitForRun(stack, secret);
    const runId = await startRun({ mode: 'PLAN', tasks: [putItem(stack.stateTable, { pk: `RUN#${secret}`, sk: 'RUN' })] });
    const run = await expectRefused(runId, `dynamodb://${stack.stateTable}`);
    expect(JSON.stringify(run)).not.toContain('a goal only its requester should read');
    expect(JSON.stringify(await eventsOf(runId))).not.toContain('a goal only its requester should read');
  });

  it('refuses an s3.put-object into the vault: DENIED, no new object version', async () => {
    const key = 'audit/heads/forged.json';
    const before = await vaultVersions(key);
    const runId = await startRun({ tasks: [{ action: 's3.put-object', params: { bucket: VAULT, key, body: '{"forged":true}' } }] });
    await expectRefused(runId, `s3://${VAULT}/${key}`);
    expect(await vaultVersions(key)).toBe(before);
  });

  it('refuses a bucket the environment does not declare, and lets a declared one through', async () => {
    const outside = await startRun({ tasks: [{ action: 's3.put-object', params: { bucket: 'not-declared-anywhere', key: 'x.txt', body: 'x' } }] });
    await expectRefused(outside, 's3://not-declared-anywhere/x.txt');
    const inside = await startRun({
      tasks: [
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'managed/inside.txt', body: 'inside\n' } },
        putItem(stack.demoTable, { id: 'managed-inside' }),
      ],
    });
    expect((await waitForRun(stack, inside)).status).toBe('SUCCEEDED');
  });
});

describe('start-up refuses a configuration that declares Maestro’s own resources', () => {
  it('names the key of a managed table that is the state table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-config-'));
    const file = join(dir, 'maestro.config.yaml');
    const config = readFileSync(join(ROOT, 'maestro.config.yaml'), 'utf8').replace(/(tables:\s*\[)/, '$1maestro-state, ');
    expect(config).toContain('maestro-state, ');
    writeFileSync(file, config);
    const previous = process.env.MAESTRO_CONFIG_FILE;
    process.env.MAESTRO_CONFIG_FILE = file;
    try {
      await expect(startTestStack('managed-bad')).rejects.toThrow(/environments\.dev\.managedResources\.tables\.0: .*maestro-state/);
    } finally {
      if (previous === undefined) delete process.env.MAESTRO_CONFIG_FILE;
      else process.env.MAESTRO_CONFIG_FILE = previous;
    }
  });
});
