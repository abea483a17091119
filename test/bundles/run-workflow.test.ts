import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
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
      'ops-api.ts',
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

  it('the run steps carry no in-process executor (they invoke the executor bundles); the tracer and the configuration are files beside the bundle', async () => {
    const plan = info.handlerModules['../functions/handlers/run/plan.ts'];
    const bundle = readFileSync(plan, 'utf8');
    expect(bundle.includes('createExecutorDeps'), 'the in-process executor').toBe(false);
    expect(bundle.includes('LambdaTaskExecutor'), 'the executors invoked through Lambda').toBe(true);
    expect(existsSync(join(dirname(plan), 'maestro.config.json')), 'the configuration baked as JSON').toBe(true);
    expect(existsSync(join(dirname(plan), 'maestro.config.yaml')), 'no YAML file').toBe(false);
    // In a process of its own: loading the X-Ray SDK installs async hooks.
    const { execFileSync } = await import('node:child_process');
    const tracer = pathToFileURL(join(dirname(plan), 'tracer.mjs')).href;
    const loaded = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(tracer)}); console.log(typeof m.Tracer, typeof m.captureLambdaHandler);`],
      {
        cwd: dirname(plan),
        encoding: 'utf8',
      },
    );
    expect(loaded.trim()).toBe('function function');
  });

  it("names the sources in a bundled function's error stack, started as its template starts it (no --enable-source-maps)", async () => {
    const finalize = deployedFunctions().find((fn) => fn.metadata['maestro:entry'] === 'functions/handlers/run/finalize.ts')!;
    expect(finalize.env.NODE_OPTIONS ?? '').not.toContain('--enable-source-maps');
    const failed = await invokeBundle(finalize, { runId: 42 });
    const stack = failed.error?.stack ?? '';
    // Sources are named as the synth's esbuild saw them from the asset (`../../functions/…` in cdk.out; deeper when synthesized elsewhere).
    expect(stack, JSON.stringify(failed)).toMatch(/\((?:[\w.-]+\/)*functions\/handlers\/[\w/-]+\.ts:\d+:\d+\)/);
    expect(/index\.mjs:\d+:\d+/.test(stack), stack).toBe(false);
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

  it("serves the operations API's routes from its own bundle: the contract from the file beside it, templates through its parts", async () => {
    const bundle = info.handlerModules['../functions/handlers/ops-api.ts'];
    expect(existsSync(join(dirname(bundle), 'openapi.json'))).toBe(true);
    const contract = await api(stack, 'GET', '/openapi.json', { token: null });
    expect([contract.status, contract.body.openapi, Object.keys(contract.body.paths)]).toEqual([200, '3.1.1', expect.arrayContaining(['/runs', '/templates'])]);
    const templates = await api(stack, 'GET', '/templates');
    expect([templates.status, Array.isArray(templates.body.templates)]).toEqual([200, true]);
    const missing = await api(stack, 'GET', '/dr/status/no-such-job');
    expect([missing.status, missing.body.error.field]).toEqual([404, 'id']);
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

/** The synthesized template's Lambda functions: bundle file, environment, metadata. */
function deployedFunctions() {
  const cdkOut = inject('cdkOutDir');
  const manifest = JSON.parse(readFileSync(join(cdkOut, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const functions: { logicalId: string; bundle: string; env: Record<string, string>; metadata: Record<string, any> }[] = [];
  for (const artifact of Object.values(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(readFileSync(join(cdkOut, artifact.properties.templateFile), 'utf8'));
    for (const [logicalId, resource] of Object.entries<any>(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function' || typeof resource.Metadata?.['aws:asset:path'] !== 'string') continue;
      const variables = Object.entries<unknown>(resource.Properties.Environment?.Variables ?? {}).filter(([, value]) => typeof value === 'string');
      functions.push({
        logicalId,
        bundle: join(cdkOut, resource.Metadata['aws:asset:path'], 'index.mjs'),
        env: Object.fromEntries(variables) as Record<string, string>,
        metadata: resource.Metadata,
      });
    }
  }
  return functions;
}

/** One invocation of a bundle in a plain Node process, with its template environment plus the stack's endpoints (as Lambda would run it). */
async function invokeBundle(fn: { bundle: string; env: Record<string, string>; logicalId: string }, event: unknown, envPatch: Record<string, string> = {}) {
  const { execFile } = await import('node:child_process');
  const env = {
    PATH: process.env.PATH ?? '',
    ...fn.env,
    LAMBDA_TASK_ROOT: dirname(fn.bundle),
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_S3: stack.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
    MAESTRO_S3_FORCE_PATH_STYLE: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...envPatch,
  };
  const output = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [join(ROOT, 'test/bundles/support/invoke-bundle.ts'), fn.bundle, fn.logicalId],
      { cwd: dirname(fn.bundle), env, timeout: 120_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
    child.stdin!.end(JSON.stringify(event));
  });
  return JSON.parse(output.trim().split('\n').at(-1)!) as {
    result?: { ok: boolean; value?: any; error?: { name: string; message: string } };
    error?: { name: string; message: string; stack?: string };
  };
}

describe("the example pack on the bundles: the control plane's bundles carry it, its own executors run it", () => {
  const document = { service: 'checkout', owner: 'payments@example.com', flags: { 'new-cart': true } };

  it('runs a task of the example pack to SUCCEEDED through the bundled API and run steps, recording the pinned hash', async () => {
    const key = 'bundles/pack-flags.json';
    const runId = await startRun([{ action: 'example.s3-put-json', params: { bucket: info.demoBucket, key, document } }]);
    const run = await waitForRun(stack, runId, RUN_WAIT_MS);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(await versionsOf(key)).toBe(1);
    const applied = (await eventsOf(runId)).find((event) => event.type === 'TaskApplied');
    const pin = JSON.parse(deployedFunctions().find((fn) => fn.metadata['maestro:entry'] === 'functions/handlers/run/apply-task.ts')!.env.MAESTRO_PACKS)[0];
    expect([applied?.payload.pack, applied?.payload.packSha256]).toEqual(['example', pin.sha256]);
    // The pack's code is inside the bundle (its idempotency marker), not loaded from the repository.
    const bundle = readFileSync(info.handlerModules['../functions/handlers/run/apply-task.ts'], 'utf8');
    expect(bundle.includes('example-idempotency-key'), 'the example pack is bundled').toBe(true);
  });

  it("plans and applies in the pack's own executor bundle; the built-ins' executor refuses the action; a changed pin is refused", async () => {
    const functions = deployedFunctions();
    const packExecutor = (executorClass: string) =>
      functions.find((fn) => fn.metadata['maestro:pack-executor']?.pack === 'example' && fn.metadata['maestro:pack-executor'].executorClass === executorClass)!;
    const builtinWrite = functions.find(
      (fn) =>
        fn.metadata['maestro:entry'] === 'functions/handlers/run/execute-task.ts' && !fn.metadata['maestro:pack-executor'] && /ExecuteWrite/.test(fn.logicalId),
    )!;
    expect([packExecutor('read'), packExecutor('write'), builtinWrite].every(Boolean)).toBe(true);
    expect(readFileSync(builtinWrite.bundle, 'utf8').includes('example-idempotency-key'), "the built-ins' executor carries no pack").toBe(false);

    const key = 'bundles/pack-executor.json';
    const request = {
      action: 'example.s3-put-json',
      actionVersion: '1.0.0',
      runId: 'run-pack-bundle',
      environment: 'dev',
      taskIndex: 0,
      idempotencyKey: 'pack-bundle-key',
    };
    const planned = await invokeBundle(packExecutor('read'), { ...request, operation: 'plan', params: { bucket: info.demoBucket, key, document } });
    expect(planned.result?.ok, JSON.stringify(planned)).toBe(true);
    expect(await versionsOf(key)).toBe(0);
    const applied = await invokeBundle(packExecutor('write'), {
      ...request,
      operation: 'apply',
      plan: planned.result!.value,
      timeMs: 30_000,
      attempt: 1,
      quiesceFlags: [],
    });
    expect(applied.result?.ok, JSON.stringify(applied)).toBe(true);
    expect(await versionsOf(key)).toBe(1);

    const refused = await invokeBundle(builtinWrite, {
      ...request,
      operation: 'apply',
      plan: planned.result!.value,
      timeMs: 30_000,
      attempt: 1,
      quiesceFlags: [],
    });
    expect(refused.result?.error?.name ?? refused.error?.name, JSON.stringify(refused)).toBe('UnknownAction');

    const pin = JSON.parse(packExecutor('write').env.MAESTRO_PACKS)[0];
    const repinned = JSON.stringify([{ ...pin, sha256: 'f'.repeat(64) }]);
    const tampered = await invokeBundle(
      packExecutor('write'),
      { ...request, operation: 'apply', plan: planned.result!.value, timeMs: 30_000, attempt: 2, quiesceFlags: [] },
      { MAESTRO_PACKS: repinned },
    );
    const error = tampered.result?.error ?? tampered.error;
    expect(error?.name, JSON.stringify(tampered)).toBe('PackIntegrityError');
    expect(error?.message).toContain(pin.sha256);
    expect(await versionsOf(key)).toBe(1);
  });
});
