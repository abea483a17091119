import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionFailed, SandboxViolation } from '../../../functions/core/errors.ts';
import { runInSandbox } from '../../../local/sandbox/sandbox-runner.ts';
import type { EmbeddedStack } from '../../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../../support/test-stack.ts';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const misbehave = (method: string, extra: { timeMs?: number; memoryMb?: number } = {}) =>
  runInSandbox({
    modulePath: resolve(FIXTURES, 'misbehaving.ts'),
    exportName: 'misbehaving',
    method,
    args: [],
    timeMs: extra.timeMs ?? 10_000,
    memoryMb: extra.memoryMb,
  });

const breachOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SandboxViolation);
  return (error as SandboxViolation).details?.breach;
};

let stack: EmbeddedStack;
beforeAll(async () => {
  stack = await startTestStack('sandbox');
});
afterAll(async () => {
  await stack?.stop();
});

describe('runInSandbox', () => {
  it('runs code that stays within its rights and returns its result', async () => {
    const result = await runInSandbox({ modulePath: resolve(FIXTURES, 'well-behaved.ts'), exportName: 'apply', args: [{ a: 2, b: 3 }], timeMs: 10_000 });
    expect(result).toEqual({ sum: 5, ownCode: true });
  });

  it('stops a read outside the code with SandboxViolation (fs.read)', async () => {
    expect(await breachOf(misbehave('readOutside'))).toBe('fs.read');
    expect(await breachOf(misbehave('readRepoSecret'))).toBe('fs.read');
  });

  it('stops a write outside the scratch directory (fs.write)', async () => {
    expect(await breachOf(misbehave('writeOutside'))).toBe('fs.write');
    expect(existsSync('/tmp/maestro-sandbox-escape.txt')).toBe(false);
  });

  it('stops a child process and a worker thread', async () => {
    expect(await breachOf(misbehave('spawn'))).toBe('child-process');
    expect(await breachOf(misbehave('worker'))).toBe('worker');
  });

  it('stops code that exceeds its memory cap', async () => {
    expect(await breachOf(misbehave('exhaustMemory', { memoryMb: 32 }))).toBe('memory');
  });

  it('kills code that exceeds its time and reports it', async () => {
    expect(await breachOf(misbehave('spin', { timeMs: 500 }))).toBe('time');
  });

  it('passes an action’s own Maestro error through with its class', async () => {
    await expect(misbehave('failPolitely')).rejects.toThrow(ActionFailed);
  });

  it('leaves the stack serving after every violation', async () => {
    expect((await api(stack, 'GET', '/health', { token: null })).status).toBe(200);
    const created = await api(stack, 'POST', '/runs', { body: { goal: 'still serving', mode: 'APPLY', tasks: [{ action: 'noop', params: {} }] } });
    expect(created.status).toBe(201);
    expect((await waitForRun(stack, created.body.runId)).status).toBe('SUCCEEDED');
  });
});
