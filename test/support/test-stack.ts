import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { startEmbeddedStack } from '../../local/stack.ts';
import type { EmbeddedStack, EmbeddedStackOptions } from '../../local/stack.ts';

/** A fresh data directory under the OS temp dir. */
export const tempDataDir = (label: string) => mkdtempSync(join(tmpdir(), `maestro-${label}-`));

/** The embedded stack on the shared DynamoDB Local, with tables of its own and a random API port. */
export async function startTestStack(label: string, options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const prefix = `${label}-${randomBytes(3).toString('hex')}-`;
  const stack = await startEmbeddedStack({
    dataDir: tempDataDir(label),
    dynamodbUrl: inject('dynamodbUrl'),
    tablePrefix: prefix,
    demoTable: `${prefix}maestro-demo`,
    apiPort: 0,
    ...options,
  });
  // The test's own SDK clients reach the stack's services through the SDK's variables.
  Object.assign(process.env, stack.clientEnvironment);
  return stack;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the stack's HTTP API as a client would. */
export async function api<T = any>(
  stack: Pick<EmbeddedStack, 'endpoints'>,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? 'dev-operator' : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | Buffer | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${stack.endpoints.api}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'REJECTED', 'EXPIRED', 'CANCELLED', 'DENIED']);

/** Polls a run until it has finished (PLANNED counts once finalized) or the timeout passes. */
export async function waitForRun(stack: Pick<EmbeddedStack, 'endpoints'>, runId: string, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(stack, 'GET', `/runs/${runId}`);
    const run = body.run;
    if (FINISHED.has(run.status) || run.finishedAt) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Polls `check` until it holds (bounded: the test fails naming what it waited for). */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Waits until the run (as GET /runs/{id} shows it) satisfies `predicate`, and returns it. */
export async function waitForRunWhere(stack: Pick<EmbeddedStack, 'endpoints'>, runId: string, predicate: (run: any) => boolean, what: string) {
  let latest: any;
  await until(async () => predicate((latest = (await api(stack, 'GET', `/runs/${runId}`)).body.run)), `run ${runId}: ${what}`);
  return latest;
}
