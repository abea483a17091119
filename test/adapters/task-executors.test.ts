import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../functions/actions/catalog.ts';
import { LambdaTaskExecutor } from '../../functions/adapters/lambda-task-executor.ts';
import { StalePlan, TargetQuiesced, TransientError, UnknownAction, VerificationFailed } from '../../functions/core/errors.ts';
import type { TaskPlan } from '../../functions/core/runs/model.ts';
import { executorClassOf, fromEnvelope, fromWire, toWire } from '../../functions/core/runs/task-executor.ts';
import type { TaskExecution } from '../../functions/core/runs/task-executor.ts';
import { createHandler } from '../../functions/handlers/run/execute-task.ts';
import { createExecutorDeps } from '../../functions/handlers/run/executor-deps.ts';
import { loadConfig } from '../../functions/handlers/shared/config.ts';
import { lambdaHandlerWith } from '../../functions/handlers/shared/lambda-handler.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { startTestStack } from '../support/test-stack.ts';

/**
 * The executors as AWS runs them: the control plane's LambdaTaskExecutor (the real SDK client and
 * Invoke API) against a Lambda Invoke endpoint that runs the real executor handler
 * (functions/handlers/run/execute-task.ts), on the embedded S3 stand-in.
 */
/**
 * The executor's Lambda entry as execute-task.ts builds it, with the configuration read from
 * maestro.config.yaml (a bundle reads the same tree baked as JSON: test/handlers/shared/lambda-config.test.ts).
 */
const handler = lambdaHandlerWith(createHandler, () => createExecutorDeps(loadConfig(process.env, { defaults: { state: { table: 'none' } } })));
let stack: EmbeddedStack;
let server: Server;
let lambda: LambdaClient;
let s3: S3Client;
const invoked: string[] = [];
/** How the stand-in answers a function name: run the handler, or fail as Lambda does. */
const behaviour = new Map<string, 'handler' | 'throttle' | 'timeout'>([
  ['maestro-execute-read', 'handler'],
  ['maestro-execute-write', 'handler'],
  ['maestro-execute-internet', 'handler'],
]);

beforeAll(async () => {
  stack = await startTestStack('task-executors');
  s3 = new S3Client({ endpoint: stack.endpoints.s3, forcePathStyle: true });
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const name = decodeURIComponent(/\/functions\/([^/]+)\/invocations/.exec(request.url ?? '')?.[1] ?? '');
    invoked.push(name);
    const mode = behaviour.get(name);
    if (mode === 'throttle' || mode === undefined) {
      const type = mode === 'throttle' ? 'TooManyRequestsException' : 'ResourceNotFoundException';
      response.writeHead(mode === 'throttle' ? 429 : 404, { 'content-type': 'application/json', 'x-amzn-errortype': type });
      response.end(JSON.stringify({ message: `${type} for ${name}`, Type: 'User' }));
      return;
    }
    if (mode === 'timeout') {
      response.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
      response.end(JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 300.00 seconds' }));
      return;
    }
    const result = await handler(JSON.parse(Buffer.concat(chunks).toString('utf8')), lambdaContext(name));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(result));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  lambda = new LambdaClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  lambda?.destroy();
  s3?.destroy();
  await new Promise((done) => server?.close(done));
  await stack?.stop();
});

const catalog = defaultCatalog();
const functions = { read: 'maestro-execute-read', write: 'maestro-execute-write', internet: 'maestro-execute-internet' };
const executor = (names = functions) =>
  new LambdaTaskExecutor({
    client: lambda,
    functions: names,
    classOf: (request) => executorClassOf(request.operation, catalog.get(request.action, request.actionVersion)),
  });
const task = (key: string, overrides: Partial<TaskExecution> = {}): TaskExecution => ({
  operation: 'plan',
  action: 's3.put-object',
  actionVersion: '1.0.0',
  runId: `run-${key}`,
  environment: 'dev',
  taskIndex: 0,
  idempotencyKey: `key-${key}`,
  ...overrides,
});
const versionsOf = async (key: string) =>
  ((await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: key }))).Versions ?? []).filter((version) => version.Key === key);

describe('the action executors behind Lambda Invoke', () => {
  it('plans in the read executor and applies, verifies and rolls back in the write one, with outcomes as data', async () => {
    const key = 'executors/plain.txt';
    invoked.length = 0;
    const plan = (await executor().execute(task(key, { params: { bucket: stack.demoBucket, key, body: 'one\n' } }))) as TaskPlan;
    expect(plan).toMatchObject({ change: 'create', resource: `s3://${stack.demoBucket}/${key}` });
    expect(await versionsOf(key)).toHaveLength(0);

    const outcome = (await executor().execute(task(key, { operation: 'apply', plan, timeMs: 30_000, quiesceFlags: [] }))) as Record<string, unknown>;
    expect(outcome.versionId).toEqual(expect.any(String));
    expect(await versionsOf(key)).toHaveLength(1);
    // A replay under the same idempotency key recognises its own write.
    await executor().execute(task(key, { operation: 'apply', plan, timeMs: 30_000, quiesceFlags: [] }));
    expect(await versionsOf(key)).toHaveLength(1);

    expect(await executor().execute(task(key, { operation: 'verify', plan, outcome }))).toBeNull();
    expect(await executor().execute(task(key, { operation: 'rollback', plan, outcome, quiesceFlags: [] }))).toBeNull();
    expect(invoked).toEqual(['maestro-execute-read', 'maestro-execute-write', 'maestro-execute-write', 'maestro-execute-read', 'maestro-execute-write']);
  });

  it('sends the apply of an internet-reaching action to the egress executor', async () => {
    invoked.length = 0;
    const plan: TaskPlan = {
      summary: 'GET',
      change: 'read',
      resource: 'https://example.invalid/',
      diff: '',
      preconditions: {},
      data: { url: 'https://example.invalid/' },
    };
    await expect(executor().execute(task('fetch', { action: 'http.fetch', operation: 'apply', plan, timeMs: 1000 }))).rejects.toThrow();
    expect(invoked).toEqual(['maestro-execute-internet']);
  });

  it('refuses a write the quiesce flags hold (TargetQuiesced, class kept across Invoke), and writes nothing', async () => {
    const key = 'executors/quiesced.txt';
    const plan = (await executor().execute(task(key, { params: { bucket: stack.demoBucket, key, body: 'held\n' } }))) as TaskPlan;
    const flags = [
      {
        target: 'demo',
        jobId: 'job-1',
        tables: [],
        prefixes: [{ bucket: stack.demoBucket, prefix: 'executors/' }],
        until: new Date(Date.now() + 60_000).toISOString(),
      },
    ];
    const refused = executor().execute(task(key, { operation: 'apply', plan, timeMs: 30_000, quiesceFlags: flags }));
    await expect(refused).rejects.toBeInstanceOf(TargetQuiesced);
    await expect(refused).rejects.toMatchObject({ details: { jobId: 'job-1' } });
    expect(await versionsOf(key)).toHaveLength(0);
  });

  it('keeps the class of the errors the control plane tells apart: StalePlan, VerificationFailed', async () => {
    const key = 'executors/stale.txt';
    const plan = (await executor().execute(task(key, { params: { bucket: stack.demoBucket, key, body: 'mine\n' } }))) as TaskPlan;
    // Someone else writes the object after the plan: the apply refuses.
    const other = (await executor().execute(task(key, { idempotencyKey: 'other', params: { bucket: stack.demoBucket, key, body: 'theirs\n' } }))) as TaskPlan;
    await executor().execute(task(key, { idempotencyKey: 'other', operation: 'apply', plan: other, timeMs: 30_000, quiesceFlags: [] }));
    await expect(executor().execute(task(key, { operation: 'apply', plan, timeMs: 30_000, quiesceFlags: [] }))).rejects.toBeInstanceOf(StalePlan);
    await expect(executor().execute(task(key, { operation: 'verify', plan, outcome: {} }))).rejects.toBeInstanceOf(VerificationFailed);
    expect(await versionsOf(key)).toHaveLength(1);
  });

  it('turns Lambda throttling into TransientError (the claim retries) and keeps a function error’s name', async () => {
    behaviour.set('throttled', 'throttle');
    behaviour.set('timed-out', 'timeout');
    const plan = { summary: '', change: 'none', resource: 'x', diff: '', preconditions: {}, data: {} } as TaskPlan;
    await expect(executor({ ...functions, write: 'throttled' }).execute(task('t', { operation: 'apply', plan }))).rejects.toBeInstanceOf(TransientError);
    await expect(executor({ ...functions, write: 'timed-out' }).execute(task('t', { operation: 'apply', plan }))).rejects.toMatchObject({
      name: 'Sandbox.Timedout',
    });
  });

  it('plans and verifies a run’s tasks in one invocation of the read executor; a failing task fails alone, with its class', async () => {
    const keys = ['executors/batch-0.txt', 'executors/batch-1.txt', 'executors/batch-2.txt'];
    invoked.length = 0;
    // Every plan to the read executor, even one of an action the executor's catalog does not have.
    const reads = new LambdaTaskExecutor({ client: lambda, functions, classOf: () => 'read' });
    const planned = await reads.executeBatch(
      keys.map((key, taskIndex) =>
        task(key, {
          taskIndex,
          // The middle task's action is unknown to the executor: it alone fails.
          ...(taskIndex === 1 ? { action: 'no.such-action' } : {}),
          params: { bucket: stack.demoBucket, key, body: `${taskIndex}\n` },
        }),
      ),
    );
    expect(invoked).toEqual(['maestro-execute-read']);
    expect(planned.map((answer) => answer.ok)).toEqual([true, false, true]);
    expect((planned[0] as { value: TaskPlan }).value).toMatchObject({ change: 'create', resource: `s3://${stack.demoBucket}/${keys[0]}` });
    expect((planned[1] as { error: Error }).error).toBeInstanceOf(UnknownAction);
    const plans = planned.map((answer) => (answer.ok ? (answer.value as TaskPlan) : undefined));
    const outcome = (await executor().execute(task(keys[0], { operation: 'apply', plan: plans[0], timeMs: 30_000, quiesceFlags: [] }))) as Record<
      string,
      unknown
    >;
    invoked.length = 0;
    // Task 0 was applied, task 2 was not: its verify fails (VerificationFailed, class kept), task 0's passes.
    const verified = await executor().executeBatch([
      task(keys[0], { operation: 'verify', plan: plans[0], outcome }),
      task(keys[2], { operation: 'verify', taskIndex: 2, plan: plans[2], outcome: {} }),
    ]);
    expect(invoked).toEqual(['maestro-execute-read']);
    expect(verified[0]).toEqual({ ok: true, value: null });
    expect(verified[1].ok).toBe(false);
    expect((verified[1] as { error: unknown }).error).toBeInstanceOf(VerificationFailed);
    expect(await versionsOf(keys[1])).toHaveLength(0);
    expect(await versionsOf(keys[2])).toHaveLength(0);
  });

  it('refuses an apply carried in a batch (ActionFailed for that request alone) and writes nothing', async () => {
    const key = 'executors/batch-apply.txt';
    const plan = (await executor().execute(task(key, { params: { bucket: stack.demoBucket, key, body: 'no\n' } }))) as TaskPlan;
    const batch = [
      task(key, { operation: 'apply', plan, timeMs: 30_000, quiesceFlags: [] }),
      task(key, { params: { bucket: stack.demoBucket, key, body: 'no\n' } }),
    ];
    const answers = await handler({ batch: batch.map((request) => toWire(request) as TaskExecution) }, lambdaContext('maestro-execute-read'));
    const [refused, planned] = (answers as { batch: Parameters<typeof fromEnvelope>[0][] }).batch;
    expect(() => fromEnvelope(refused)).toThrow(expect.objectContaining({ name: 'ActionFailed' }));
    expect(fromEnvelope(planned)).toMatchObject({ change: 'create' });
    expect(await versionsOf(key)).toHaveLength(0);
  });

  it('fails every request of a throttled batch with TransientError, and a pack’s request without an executor alone with UnknownAction', async () => {
    behaviour.set('throttled', 'throttle');
    const packed = new LambdaTaskExecutor({
      client: lambda,
      functions: { ...functions, read: 'throttled' },
      classOf: (request) => executorClassOf(request.operation, catalog.get(request.action, request.actionVersion)),
      packOf: (request) => (request.taskIndex === 1 ? 'example' : 'builtin'),
    });
    const answers = await packed.executeBatch(
      [0, 1, 2].map((taskIndex) => task(`t${taskIndex}`, { taskIndex, params: { bucket: stack.demoBucket, key: 'x', body: 'x' } })),
    );
    expect(answers.map((answer) => (answer.ok ? 'ok' : (answer.error as Error).name))).toEqual(['TransientError', 'UnknownAction', 'TransientError']);
  });

  it("carries what JSON has no form for (a DynamoDB item's binary attributes and sets) across the boundary unchanged", () => {
    const previous = { id: 'item-0000', bin: new Uint8Array([1, 2, 0]), tags: new Set(['a', 'b']), nested: [{ blob: new Uint8Array([9]) }], empty: {} };
    expect(fromWire(JSON.parse(JSON.stringify(toWire({ preconditions: { previous } }))))).toEqual({ preconditions: { previous } });
  });

  it('never looks error names up as inherited properties', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => fromEnvelope({ ok: false, error: { name, message: 'forged' } })).toThrow(expect.objectContaining({ name, message: 'forged' }));
    }
  });
});
