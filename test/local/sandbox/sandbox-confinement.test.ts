import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../../functions/actions/catalog.ts';
import { SandboxViolation } from '../../../functions/core/errors.ts';
import { SERVICES_OF_ACTION, sandboxEnvironment } from '../../../local/sandbox/isolated-apply.ts';
import { runInSandbox } from '../../../local/sandbox/sandbox-runner.ts';
import type { AllowedConnect } from '../../../local/sandbox/sandbox-runner.ts';
import type { EmbeddedStack } from '../../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../../support/test-stack.ts';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const WEBHOOK = 'https://hooks.slack.test/services/T000/B000/secret-webhook';

const leaky = (method: string, args: unknown[], sandbox: { env?: Record<string, string>; allowConnect?: AllowedConnect[] } = {}) =>
  runInSandbox<any>({ modulePath: resolve(FIXTURES, 'leaky.ts'), exportName: 'leaky', method, args, timeMs: 15_000, ...sandbox });

const breachOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SandboxViolation);
  return (error as SandboxViolation).details?.breach;
};

/** A process that belongs to nobody in the test: a sandbox must not be able to end it. */
const bystander = (): ChildProcess => spawn('sleep', ['120'], { stdio: 'ignore' });
const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
const settle = () => new Promise((done) => setTimeout(done, 300));

const portOf = (url: string) => Number(new URL(url).port);

let stack: EmbeddedStack;
let saved: Record<string, string | undefined>;
beforeAll(async () => {
  stack = await startTestStack('sandbox-confine');
  saved = { MAESTRO_SLACK_WEBHOOK_URL: process.env.MAESTRO_SLACK_WEBHOOK_URL, AWS_SESSION_TOKEN: process.env.AWS_SESSION_TOKEN };
  // What a developer's shell may hold: a real webhook and a session token.
  process.env.MAESTRO_SLACK_WEBHOOK_URL = WEBHOOK;
  process.env.AWS_SESSION_TOKEN = 'session-token';
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved ?? {})) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await stack?.stop();
});

describe('Node 24’s permission model alone (the sandbox before its own confinement)', () => {
  it('lets a child signal another process and open a socket to the KMS stand-in', async () => {
    const victim = bystander();
    const script = resolve(FIXTURES, 'bare-permission.mjs');
    const out = execFileSync(
      process.execPath,
      ['--permission', `--allow-fs-read=${script}`, script, String(victim.pid), '127.0.0.1', String(portOf(stack.endpoints.kms))],
      { encoding: 'utf8' },
    );
    await settle();
    expect(JSON.parse(out)).toEqual({ signal: 'sent', connect: 'connected' });
    expect(alive(victim)).toBe(false);
  });
});

describe('the action sandbox', () => {
  it('gives an S3 action the S3 endpoint and the credentials, and nothing of Maestro’s own', async () => {
    const sandbox = sandboxEnvironment('s3.put-object');
    const env = (await leaky('dumpEnv', [], sandbox)) as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_ENDPOINT_URL_S3',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'MAESTRO_SANDBOX_SCRATCH',
      'NODE_ENV',
    ]);
    expect(env.AWS_ENDPOINT_URL_S3).toBe(stack.endpoints.s3);
    expect(JSON.stringify(env)).not.toContain(WEBHOOK);
    expect(sandbox.allowConnect).toEqual([{ host: '127.0.0.1', port: portOf(stack.endpoints.s3), addresses: ['127.0.0.1'] }]);
  });

  it('gives a DynamoDB action the DynamoDB endpoint only, and an action without AWS clients nothing at all', async () => {
    expect(Object.keys(sandboxEnvironment('dynamodb.put-item').env).filter((name) => name.startsWith('AWS_ENDPOINT'))).toEqual(['AWS_ENDPOINT_URL_DYNAMODB']);
    for (const action of ['dr.approve-restore', 'some.future-action']) {
      const sandbox = sandboxEnvironment(action);
      expect(sandbox).toEqual({ env: {}, allowConnect: [] });
      expect(Object.keys(await leaky('dumpEnv', [], sandbox)).sort()).toEqual(['MAESTRO_SANDBOX_SCRATCH', 'NODE_ENV']);
    }
    // Every action whose apply is isolated is listed, so none falls back to nothing by accident.
    const isolated = defaultCatalog()
      .list()
      .filter((action) => action.safety.budgets.network !== 'none' && !action.confinesOwnRequests);
    expect([...SERVICES_OF_ACTION.keys()].sort()).toEqual(isolated.map((action) => action.name).sort());
  });

  it('refuses to signal another process or its parent (breach: signal), and the bystander lives', async () => {
    const victim = bystander();
    try {
      expect(await breachOf(leaky('signal', [victim.pid, 'SIGTERM']))).toBe('signal');
      expect(await breachOf(leaky('signal', [process.pid, 0]))).toBe('signal');
      expect(await breachOf(leaky('signal', [0, 'SIGTERM']))).toBe('signal');
      await settle();
      expect(alive(victim)).toBe(true);
    } finally {
      victim.kill('SIGKILL');
    }
  });

  it('refuses sockets to the KMS stand-in and DynamoDB Local from an S3 action, and allows its own endpoint', async () => {
    const sandbox = sandboxEnvironment('s3.put-object');
    expect(await breachOf(leaky('connect', ['127.0.0.1', portOf(stack.endpoints.kms)], sandbox))).toBe('net');
    expect(await breachOf(leaky('connect', ['127.0.0.1', portOf(stack.endpoints.dynamodb)], sandbox))).toBe('net');
    expect(await breachOf(leaky('connect', ['localhost', portOf(stack.endpoints.s3)], sandbox))).toBe('net');
    expect(await leaky('connect', ['127.0.0.1', portOf(stack.endpoints.s3)], sandbox)).toBe('connected');
  });

  it('refuses fetch to an endpoint it was not given, listening and UDP', async () => {
    const sandbox = sandboxEnvironment('s3.put-object');
    const refused = await leaky('fetch', [stack.endpoints.kms], sandbox).then(
      () => 'sent',
      (error: Error) => error.message,
    );
    expect(refused).not.toBe('sent');
    expect(await breachOf(leaky('listen', [], sandbox))).toBe('net');
    expect(await breachOf(leaky('udp', [], sandbox))).toBe('net');
  });

  it('still applies S3 and DynamoDB writes in the sandbox (the DR quiesce flags arrive with the request, as data)', async () => {
    const created = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'sandboxed writes',
        reasonForAccess: 'sandbox confinement test',
        mode: 'APPLY',
        tasks: [
          { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'sandbox/confined.txt', body: 'confined\n' } },
          { action: 'dynamodb.put-item', params: { table: stack.demoTable, item: { id: 'sandbox-confined', value: 'confined' } } },
        ],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const run = await waitForRun(stack, created.body.runId);
    expect(run.status, JSON.stringify(run.tasks)).toBe('SUCCEEDED');
    for (const task of run.tasks) expect(task.outcome.isolation).toMatchObject({ permissionModel: true });
  });
});
