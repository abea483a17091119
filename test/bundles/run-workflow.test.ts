import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT, spawnStack } from '../support/child-stack.ts';
import type { ChildStack } from '../support/child-stack.ts';
import { api, tempDataDir, waitForRun } from '../support/test-stack.ts';

/**
 * What AWS runs is what this file runs: the embedded stack in a plain Node process with every deployed
 * handler (the run workflow's functions, the API, the approval sweeper, the outbox relay) imported
 * from its bundle in the synthesized cloud assembly, configured through the environment as in Lambda.
 */
const children: ChildProcess[] = [];
let stack: ChildStack;
let info: { demoBucket: string; demoTable: string; handlerModules: Record<string, string> };
let s3: S3Client;

beforeAll(async () => {
  const dataDir = tempDataDir('bundles');
  const started = Date.now();
  stack = await spawnStack({
    args: [join(ROOT, 'test/bundles/support/serve-bundles.ts')],
    env: {
      ...process.env,
      BUNDLE_STACK_DATA_DIR: dataDir,
      BUNDLE_STACK_CDK_OUT: inject('cdkOutDir'),
      BUNDLE_STACK_DYNAMODB_URL: inject('dynamodbUrl'),
    },
    dataDir,
    children,
    // Nine bundles of about 1.5 MB each load before the stack serves: allow a loaded machine time.
    timeoutMs: 150_000,
  });
  info = JSON.parse(readFileSync(join(dataDir, 'bundle-stack.json'), 'utf8'));
  console.log(`test:bundles: the embedded stack served the bundles after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  s3 = new S3Client({
    endpoint: stack.endpoints.s3,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  s3?.destroy();
  for (const child of children) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

const REASON = 'bundles end-to-end test';
/** A bound on the wait, not a timing assertion: each bundle's first invocation is a cold start (its own SDK clients, its own Cedar wasm). */
const RUN_WAIT_MS = 120_000;
async function startRun(tasks: unknown[], token = 'dev-operator') {
  const response = await api(stack, 'POST', '/runs', { token, body: { goal: 'bundles', mode: 'APPLY', reasonForAccess: REASON, tasks } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.runId as string;
}
const eventsOf = async (runId: string) => (await api(stack, 'GET', `/runs/${runId}/events`)).body.events as { type: string; payload?: any }[];
const versionsOf = async (key: string) => {
  const listing = await s3.send(new ListObjectVersionsCommand({ Bucket: info.demoBucket, Prefix: key }));
  return [...(listing.Versions ?? []), ...(listing.DeleteMarkers ?? [])].filter((version) => version.Key === key).length;
};

describe('the embedded stack on the synthesized bundles', () => {
  it('loads every deployed handler from its bundle in cdk.out', () => {
    const cdkOut = inject('cdkOutDir');
    const deployed = [
      'run/admit.ts',
      'run/plan.ts',
      'run/request-approval.ts',
      'run/apply-task.ts',
      'run/verify.ts',
      'run/roll-back.ts',
      'run/finalize.ts',
      'api.ts',
      'approvals/sweep.ts',
      'outbox/relay.ts',
    ].map((file) => `../functions/handlers/${file}`);
    for (const module of deployed) {
      const loaded = info.handlerModules[module];
      expect(loaded, module).toMatch(/\/asset\.[0-9a-f]{64}\/index\.mjs$/);
      expect(loaded.startsWith(`${cdkOut}${sep}`), module).toBe(true);
    }
  });

  it("resolves Cedar and its .wasm inside each bundle's asset, not from the repository", () => {
    for (const module of ['../functions/handlers/api.ts', '../functions/handlers/run/plan.ts', '../functions/handlers/run/apply-task.ts']) {
      const bundle = info.handlerModules[module];
      const assetDir = dirname(bundle);
      const cedar = createRequire(bundle).resolve('@cedar-policy/cedar-wasm/nodejs');
      expect(cedar, module).toBe(join(assetDir, 'node_modules/@cedar-policy/cedar-wasm/nodejs/cedar_wasm.js'));
      expect(existsSync(join(dirname(cedar), 'cedar_wasm_bg.wasm')), module).toBe(true);
    }
  });

  it('was bundled with keepNames as well (esbuild keeps each function and class name beside the literals)', () => {
    const bundle = readFileSync(info.handlerModules['../functions/handlers/run/apply-task.ts'], 'utf8');
    // Asserted as booleans: a failure must not print 1.5 MB of bundle.
    expect(/"name",\{value:\w+,configurable:!0\}/.test(bundle), "esbuild's keepNames helper").toBe(true);
    expect(bundle.includes(`name="TransientError"`), 'the literal name of TransientError').toBe(true);
  });

  it('answers API errors with their class names as codes', async () => {
    const badJson = await api(stack, 'POST', '/runs', { rawBody: '{"goal":', headers: { 'content-type': 'application/json' } });
    expect([badJson.status, badJson.body.error.code, badJson.body.error.field]).toEqual([400, 'InvalidJson', 'body']);
    const noRoute = await api(stack, 'GET', '/no-such-route');
    expect([noRoute.status, noRoute.body.error.code]).toEqual([404, 'RouteNotFound']);
    const anonymous = await api(stack, 'GET', '/runs', { token: null });
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'Unauthenticated']);
    const invalid = await api(stack, 'POST', '/runs', {
      body: { goal: 'x', mode: 'APPLY', reasonForAccess: REASON, tasks: [{ action: 'noop', params: { sleepMs: -1 } }] },
    });
    expect([invalid.status, invalid.body.error.code]).toEqual([400, 'ValidationFailed']);
    expect(invalid.body.error.field).toMatch(/^tasks\[0\]\.params/);
  });

  it('runs the golden path to SUCCEEDED', async () => {
    const key = 'bundles/golden.txt';
    const runId = await startRun([
      { action: 's3.put-object', params: { bucket: info.demoBucket, key, body: 'from the bundles\n' } },
      { action: 'noop', params: { sleepMs: 5 } },
    ]);
    const run = await waitForRun(stack, runId, RUN_WAIT_MS);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.tasks.map((task: { status: string }) => task.status)).toEqual(['VERIFIED', 'VERIFIED']);
    expect(await versionsOf(key)).toBe(1);
  });

  it('retries a TransientError (the ASL Retry matches its name) and then succeeds', async () => {
    const runId = await startRun([{ action: 'noop', params: { transientFailures: 1 } }]);
    const run = await waitForRun(stack, runId, RUN_WAIT_MS);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    const events = await eventsOf(runId);
    const attempts = events.filter((event) => event.type === 'TaskAttemptFailed');
    expect(attempts.map((event) => [event.payload.error.name, event.payload.attempt])).toEqual([['TransientError', 1]]);
    expect(events.filter((event) => event.type === 'TaskFailed')).toEqual([]);
    expect(run.tasks[0].outcome.attempt).toBe(2);
  });

  it('ends a policy denial DENIED (the status mapping matches PolicyDenied), writing nothing', async () => {
    const key = 'protected/from-bundles.txt';
    const runId = await startRun([{ action: 's3.put-object', params: { bucket: info.demoBucket, key, body: 'nope\n' } }]);
    const run = await waitForRun(stack, runId, RUN_WAIT_MS);
    expect(run.status).toBe('DENIED');
    expect(run.error.name).toBe('PolicyDenied');
    expect((await eventsOf(runId)).find((event) => event.type === 'PolicyDenied')?.payload.policyIds).toEqual(['protected-keys-are-admin-only']);
    expect(await versionsOf(key)).toBe(0);
  });
});
