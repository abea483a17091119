import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hashPack } from '../../functions/packs/content-hash.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

// The embedded stack loads the packs maestro.config.yaml pins: the example pack (packs/example).
const EXAMPLE_SHA256 = hashPack(new URL('../../packs/example', import.meta.url).pathname);
const TASK_EVENTS = new Set(['TaskPlanned', 'TaskApplying', 'TaskApplied', 'TaskVerified', 'TaskFailed', 'TaskRolledBack']);

let stack: EmbeddedStack;
beforeAll(async () => {
  stack = await startTestStack('packs');
});
afterAll(async () => {
  await stack?.stop();
});

describe('a pinned pack on the embedded stack', () => {
  it("GET /actions lists the pack's actions with their pack, its version and its hash", async () => {
    const listed = (await api(stack, 'GET', '/actions')).body.actions as { name: string; pack: string; packVersion: string; packSha256: string | null }[];
    const fromPack = listed.filter((entry) => entry.pack === 'example');
    expect(fromPack.map((entry) => entry.name).sort()).toStrictEqual(['example.dynamodb-counter', 'example.s3-put-json']);
    for (const entry of fromPack) expect(entry).toMatchObject({ packVersion: '1.0.0', packSha256: EXAMPLE_SHA256 });
    expect(listed.find((entry) => entry.name === 's3.put-object')).toMatchObject({ pack: 'builtin', packSha256: null });
    const one = (await api(stack, 'GET', '/actions/example.dynamodb-counter')).body.action;
    expect(one).toMatchObject({ pack: 'example', category: 'WRITE', resourceKinds: ['dynamodb'] });
    expect(one.inputSchema.required).toStrictEqual(['table', 'key', 'attribute']);
  });

  it('runs example.* actions through the workflow to SUCCEEDED (the applies in the sandbox), every task event naming pack, version and hash', async () => {
    const document = { service: 'checkout', owner: 'payments@example.com', flags: { 'new-cart': true } };
    const created = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'turn on new-cart and count the release',
        mode: 'APPLY',
        reasonForAccess: 'exercise the example pack end to end',
        tasks: [
          { action: 'example.s3-put-json', params: { bucket: stack.demoBucket, key: 'flags/checkout.json', document } },
          { action: 'example.dynamodb-counter', params: { table: stack.demoTable, key: { id: 'releases#checkout' }, attribute: 'count', by: 2 } },
        ],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const run = await waitForRun(stack, created.body.runId);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    for (const task of run.tasks) expect(task.pack).toStrictEqual({ name: 'example', version: '1.0.0', sha256: EXAMPLE_SHA256 });
    // Applied in the sandbox child, which built the same catalog from the same pins.
    expect(run.tasks[0].outcome.isolation.permissionModel).toBe(true);

    const events = (await api(stack, 'GET', `/runs/${run.id}/events`)).body.events as { type: string; taskIndex?: number; payload?: Record<string, unknown> }[];
    const taskEvents = events.filter((event) => TASK_EVENTS.has(event.type));
    expect(taskEvents.map((event) => event.type).sort()).toStrictEqual(
      ['TaskPlanned', 'TaskPlanned', 'TaskApplying', 'TaskApplying', 'TaskApplied', 'TaskApplied', 'TaskVerified', 'TaskVerified'].sort(),
    );
    for (const event of taskEvents) {
      expect(event.payload, event.type).toMatchObject({ pack: 'example', packVersion: '1.0.0', packSha256: EXAMPLE_SHA256 });
    }

    const s3 = new S3Client({ forcePathStyle: true });
    const body = await (await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: 'flags/checkout.json' }))).Body!.transformToString();
    expect(JSON.parse(body)).toStrictEqual(document);
    const items = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const counter = await items.send(new GetCommand({ TableName: stack.demoTable, Key: { id: 'releases#checkout' } }));
    expect(counter.Item).toStrictEqual({ id: 'releases#checkout', count: 2 });
  });

  it('refuses a pack action on a resource the environment does not manage, before it reads anything', async () => {
    const created = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'count in a table nobody declared',
        mode: 'APPLY',
        reasonForAccess: 'the managed-resources gate applies to packs',
        tasks: [{ action: 'example.dynamodb-counter', params: { table: 'someone-elses-table', key: { id: 'x' }, attribute: 'count' } }],
      },
    });
    expect(created.status).toBe(201);
    const run = await waitForRun(stack, created.body.runId);
    expect(run.status).toBe('DENIED');
    expect(run.error.name).toBe('ResourceNotManaged');
  });

  it('a task runs with the pack content it was planned with: re-pinned between plan and apply, it is refused and writes nothing', async () => {
    const created = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'count, after approval',
        mode: 'APPLY',
        environment: 'prod',
        reasonForAccess: 'the pack is re-pinned while the run waits',
        tasks: [{ action: 'example.dynamodb-counter', params: { table: stack.demoTable, key: { id: 'releases#repinned' }, attribute: 'count' } }],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const runId = created.body.runId as string;
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL', 'parked for approval');

    // Another content of the same pack and version, pinned properly: what a redeploy would load.
    const root = resolve(import.meta.dirname, '../..');
    // Inside the repository (a pack module resolves its imports from here); .maestro is absent on a clean clone.
    mkdirSync(join(root, '.maestro'), { recursive: true });
    const copy = mkdtempSync(join(root, '.maestro', 'example-repinned-'));
    cpSync(join(root, 'packs/example'), copy, { recursive: true });
    appendFileSync(join(copy, 'actions/dynamodb-counter.ts'), '\n// changed after the run was planned\n');
    const repinned = hashPack(copy);
    // MAESTRO_PACKS wins over the file (the loader's precedence); the stack reloads its configuration.
    process.env.MAESTRO_PACKS = JSON.stringify([{ name: 'example', module: copy, version: '1.0.0', sha256: repinned }]);
    stack.reconfigure();
    try {
      expect((await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: {} })).status).toBe(200);
      const run = await waitForRun(stack, runId);
      expect(['FAILED', 'ROLLED_BACK']).toContain(run.status);
      const events = (await api(stack, 'GET', `/runs/${runId}/events`)).body.events as { type: string; payload?: any }[];
      const failed = events.find((event) => event.type === 'TaskFailed');
      expect(failed?.payload.error.name).toBe('PackIntegrityError');
      expect(failed?.payload.error.message).toContain(EXAMPLE_SHA256);
      expect(failed?.payload.error.message).toContain(repinned);
      const items = DynamoDBDocumentClient.from(new DynamoDBClient({}));
      expect((await items.send(new GetCommand({ TableName: stack.demoTable, Key: { id: 'releases#repinned' } }))).Item).toBeUndefined();
    } finally {
      delete process.env.MAESTRO_PACKS;
      stack.reconfigure();
    }
  });
});
