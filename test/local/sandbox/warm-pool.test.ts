import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ActionFailed, SandboxViolation } from '../../../functions/core/errors.ts';
import { sandboxEnvironment } from '../../../local/sandbox/isolated-apply.ts';
import type { SandboxSpec } from '../../../local/sandbox/sandbox-runner.ts';
import { WarmPool, WarmPools } from '../../../local/sandbox/warm-pool.ts';
import type { WarmPoolSettings } from '../../../local/sandbox/warm-pool.ts';
import { until } from '../../support/test-stack.ts';

const FIXTURE = resolve(import.meta.dirname, 'fixtures/warm.ts');
const SETTINGS: WarmPoolSettings = { maxWorkers: 2, maxUsesPerWorker: 50, idleMs: 60_000 };
/** Generous: the first call of a worker includes its start, which takes seconds on a loaded machine. */
const CALL_MS = 30_000;

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((pool) => pool.close()));
});

const poolOf = (settings: Partial<WarmPoolSettings> = {}, spec: Partial<SandboxSpec> = {}) => {
  const pool = new WarmPool({ modulePath: FIXTURE, exportName: 'warm', ...spec }, { ...SETTINGS, ...settings });
  open.push(pool);
  return pool;
};
const call = <T = any>(pool: WarmPool, method: string, args: unknown[] = [], timeMs = CALL_MS) =>
  // The fixture's one export takes the method as its first argument.
  pool.call<T>({ args: [method, ...args], timeMs });

/** A process that has exited (a zombie not yet reaped counts as gone). */
const alive = (pid: number) => existsSync(`/proc/${pid}/stat`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

const breachOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SandboxViolation);
  return (error as SandboxViolation).details?.breach;
};

describe('a warm pool of sandbox workers', () => {
  it('answers a second call from the same worker, whose module state carries over (as in Lambda)', async () => {
    const pool = poolOf();
    const first = await call(pool, 'whoAmI');
    const second = await call(pool, 'whoAmI');
    expect(second.pid).toBe(first.pid);
    expect([first.calls, second.calls]).toEqual([1, 2]);
    expect(await call(pool, 'remember', ['kept'])).toBe(first.pid);
    expect(await call(pool, 'recall')).toBe('kept');
  });

  it('recycles a worker after a violation, which still arrives as SandboxViolation', async () => {
    const pool = poolOf();
    const { pid } = await call(pool, 'whoAmI');
    expect(await breachOf(call(pool, 'readOutside'))).toBe('fs.read');
    const next = await call(pool, 'whoAmI');
    expect(next.pid).not.toBe(pid);
    expect(next.calls).toBe(1);
    await until(async () => !alive(pid), `the violating worker ${pid} to end`);
  });

  it('recycles a worker whose code caught the refusal and carried on', async () => {
    const pool = poolOf();
    const pid = await call<number>(pool, 'swallowRefusal');
    expect((await call(pool, 'whoAmI')).pid).not.toBe(pid);
    await until(async () => !alive(pid), `the worker ${pid} to end`);
  });

  it('kills a warm worker that runs past its time (breach: time) and answers the next call from a fresh one', async () => {
    const pool = poolOf();
    const { pid } = await call(pool, 'whoAmI');
    expect(await breachOf(call(pool, 'spin', [], 1_000))).toBe('time');
    expect(alive(pid)).toBe(false);
    expect((await call(pool, 'whoAmI')).pid).not.toBe(pid);
  });

  it('replaces a worker that crashed (breach: crash)', async () => {
    const pool = poolOf();
    const { pid } = await call(pool, 'whoAmI');
    expect(await breachOf(call(pool, 'crash'))).toBe('crash');
    expect((await call(pool, 'whoAmI')).pid).not.toBe(pid);
  });

  it('retires a worker after maxUsesPerWorker calls', async () => {
    const pool = poolOf({ maxUsesPerWorker: 3 });
    const pids: number[] = [];
    for (let i = 0; i < 4; i += 1) pids.push((await call(pool, 'whoAmI')).pid);
    expect(new Set(pids.slice(0, 3)).size).toBe(1);
    expect(pids[3]).not.toBe(pids[0]);
    await until(async () => !alive(pids[0]), `the used-up worker ${pids[0]} to end`);
    // Its replacement was started when it retired: the next call finds it already running.
    const replaced = poolOf({ maxUsesPerWorker: 1 });
    const first = (await call(replaced, 'whoAmI')).pid;
    await until(async () => replaced.pids.length === 1 && replaced.pids[0] !== first, 'the replacement to start');
    const [waiting] = replaced.pids;
    expect((await call(replaced, 'whoAmI')).pid).toBe(waiting);
  });

  it('keeps at most maxWorkers processes, one call at a time each', async () => {
    const pool = poolOf({ maxWorkers: 2 });
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(pool, 'whoAmI')));
    expect(new Set(answers.map((answer) => answer.pid)).size).toBeLessThanOrEqual(2);
    expect(answers.map((answer) => answer.calls).reduce((sum, calls) => Math.max(sum, calls), 0)).toBeGreaterThanOrEqual(3);
    expect(pool.pids.length).toBeLessThanOrEqual(2);
  });

  it('ends a worker left idle past idleMs', async () => {
    const pool = poolOf({ idleMs: 100 });
    const { pid } = await call(pool, 'whoAmI');
    await until(async () => !alive(pid) && pool.pids.length === 0, `the idle worker ${pid} to end`);
  });

  it('holds the environment allowlist in a warm worker, and puts back its environment and empties its scratch directory after each call', async () => {
    // What the stack's process holds: Maestro's own settings next to the S3 endpoint and credentials.
    const stackEnvironment = {
      MAESTRO_STATE_TABLE: 'maestro-state',
      MAESTRO_SLACK_WEBHOOK_URL: 'https://hooks.slack.test/services/T000/B000/secret-webhook',
      MAESTRO_CONFIG__autonomy: '3',
      AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:4599',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const { env } = sandboxEnvironment('s3.put-object', stackEnvironment);
    const pool = poolOf({}, { env });
    const pid = await call<number>(pool, 'litter');
    const seen = await call<Record<string, string>>(pool, 'env');
    expect(Object.keys(seen).sort()).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_ENDPOINT_URL_S3',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
      'MAESTRO_SANDBOX_SCRATCH',
      'NODE_ENV',
    ]);
    expect(Object.keys(seen).filter((name) => name.startsWith('MAESTRO_') && name !== 'MAESTRO_SANDBOX_SCRATCH')).toEqual([]);
    expect(seen.AWS_ENDPOINT_URL_S3).toBe('http://127.0.0.1:4569');
    expect(await call(pool, 'scratch')).toEqual([]);
    expect((await call(pool, 'whoAmI')).pid).toBe(pid);
  });

  it('closes: kills busy and idle workers, refuses the call in flight and every later one', async () => {
    const pool = poolOf({ maxWorkers: 2 });
    // Two calls at once start two workers; then one spins and the other waits idle.
    const started = await Promise.all([call(pool, 'whoAmI'), call(pool, 'whoAmI')]);
    const pids = started.map((answer) => answer.pid);
    expect(new Set(pids).size).toBe(2);
    const spinning = call(pool, 'spin', [], CALL_MS).then(
      () => 'answered',
      (error: Error) => error,
    );
    await pool.close();
    for (const pid of pids) expect(alive(pid), `worker ${pid}`).toBe(false);
    expect(pool.pids).toEqual([]);
    expect(await spinning).toBeInstanceOf(ActionFailed);
    await expect(call(pool, 'whoAmI')).rejects.toThrow(ActionFailed);
  });
});

describe('warm pools per key', () => {
  it('never lets two keys share a worker', async () => {
    const pools = new WarmPools(SETTINGS, () => ({ modulePath: FIXTURE, exportName: 'warm' }));
    open.push(pools);
    const ask = (key: string) => pools.call<{ pid: number }>(key, { args: ['whoAmI'], timeMs: CALL_MS });
    const s3 = [await ask('s3.put-object'), await ask('s3.put-object')];
    const dynamodb = [await ask('dynamodb.put-item'), await ask('dynamodb.put-item')];
    expect(s3[0].pid).toBe(s3[1].pid);
    expect(dynamodb[0].pid).toBe(dynamodb[1].pid);
    expect(dynamodb[0].pid).not.toBe(s3[0].pid);
    expect(new Set([...pools.pool('s3.put-object').pids, ...pools.pool('dynamodb.put-item').pids]).size).toBe(2);
  });
});
