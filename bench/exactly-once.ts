/**
 * `npm run bench:exactly-once`: what exactly-once costs, on the embedded stack.
 *
 * 1. DynamoDB requests per task, counted by an SDK middleware attached (bench only) to every
 *    DynamoDB client the handlers create: a run of 1 task vs a run of 6, so the marginal cost of a
 *    task stands next to the floor of 2 (claim the task, record its outcome).
 * 2. Runs/s of the golden path (one S3 write, APPLY, HTTP to finished) with an Idempotency-Key vs
 *    without, and a duplicate POST (the memo answers) vs a fresh one, interleaved, as ratios.
 * 3. A replayed ApplyTask on a task already applied: requests, and no apply.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MiddlewareStack } from '@smithy/types';

// ---- bench-only request counter: an SDK middleware on every DynamoDB client's stack -------------
const requests = new Map<string, number>();
const counted = new WeakSet<object>();
function countOn(stack: MiddlewareStack<any, any>): void {
  if (counted.has(stack)) return;
  counted.add(stack);
  // finalizeRequest, low priority: inside the retry middleware, so every HTTP attempt counts once.
  stack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? 'unknown').replace(/Command$/, '');
      requests.set(name, (requests.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'benchDynamoDbRequestCounter' },
  );
}
for (const clientClass of [DynamoDBClient, DynamoDBDocumentClient] as unknown as { prototype: { send: (...args: unknown[]) => unknown } }[]) {
  const original = clientClass.prototype.send;
  clientClass.prototype.send = function (this: { middlewareStack: MiddlewareStack<any, any> }, ...args: unknown[]) {
    countOn(this.middlewareStack);
    return original.apply(this, args);
  };
}
const totalRequests = () => [...requests.values()].reduce((sum, n) => sum + n, 0);
const snapshot = () => new Map(requests);
const diff = (before: Map<string, number>) => {
  const out: Record<string, number> = {};
  for (const [name, n] of requests) if (n - (before.get(name) ?? 0) > 0) out[name] = n - (before.get(name) ?? 0);
  return out;
};

// The bench creates many runs: lift the per-principal rate limit for this process only.
process.env.MAESTRO_CONFIG__rateLimits__perPrincipal ??= '{capacity: 100000, refillPerSecond: 1000}';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const { startEmbeddedStack } = await import('../local/stack.ts');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RUNS_PER_ROUND = Number(process.env.BENCH_RUNS ?? 8);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const dataDir = mkdtempSync(join(tmpdir(), 'maestro-bench-eo-'));
const stack = await startEmbeddedStack({ dataDir, apiPort: 0 });
// This process's own SDK clients reach the stack's services through the SDK's variables.
Object.assign(process.env, stack.clientEnvironment);
const sfn = new SFNClient({ endpoint: stack.endpoints.stepfunctions });
const headers = { authorization: 'Bearer dev-operator', 'content-type': 'application/json' };
const executionArnOf = (runId: string) => `${stack.runStateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;

const s3Task = () => ({ action: 's3.put-object', params: { bucket: stack.demoBucket, key: `bench/${randomUUID()}.txt`, body: 'bench\n' } });
const noopTask = () => ({ action: 'noop', params: {} });

async function post(body: unknown, idempotencyKey?: string): Promise<{ runId: string; created: boolean }> {
  const response = await fetch(`${stack.endpoints.api}/runs`, {
    method: 'POST',
    headers: idempotencyKey ? { ...headers, 'idempotency-key': idempotencyKey } : headers,
    body: JSON.stringify(body),
  });
  if (response.status !== 201 && response.status !== 200) throw new Error(`POST /runs: ${response.status} ${await response.text()}`);
  return (await response.json()) as { runId: string; created: boolean };
}

/** Waits on the workflow (Step Functions), not on the API, so that waiting makes no DynamoDB request. */
async function finished(runId: string): Promise<void> {
  for (;;) {
    const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn: executionArnOf(runId) }));
    if (status === 'SUCCEEDED') return;
    if (status !== 'RUNNING') throw new Error(`bench run ${runId} ended ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

const runBody = (tasks: unknown[]) => ({ goal: 'bench', mode: 'APPLY', reasonForAccess: 'benchmark run', tasks });

async function requestsFor(tasks: () => unknown[]): Promise<{ total: number; byOperation: Record<string, number> }> {
  const samples: number[] = [];
  let byOperation: Record<string, number> = {};
  for (let i = 0; i < 3; i += 1) {
    const before = snapshot();
    const start = totalRequests();
    const { runId } = await post(runBody(tasks()));
    await finished(runId);
    samples.push(totalRequests() - start);
    byOperation = diff(before);
  }
  return { total: median(samples), byOperation };
}

const rows: string[][] = [];
const notes: string[] = [];
try {
  // Warm up (module caches, JIT, table creation).
  await finished((await post(runBody([s3Task()]))).runId);

  // 1. DynamoDB requests per task.
  for (const [label, make] of [
    ['noop', noopTask],
    ['s3.put-object', s3Task],
  ] as const) {
    const one = await requestsFor(() => [make()]);
    const six = await requestsFor(() => Array.from({ length: 6 }, make));
    const marginal = (six.total - one.total) / 5;
    rows.push([`DynamoDB requests per ${label} task (marginal, 6-task − 1-task run) vs the floor`, marginal.toFixed(1), '2', (marginal / 2).toFixed(2)]);
    notes.push(`  ${label}: run of 1 task ${one.total} requests, of 6 tasks ${six.total}; 6-task run by operation: ${JSON.stringify(six.byOperation)}`);
  }

  // 2. Runs/s of the golden path, with and without Idempotency-Key; and a memoized duplicate vs a fresh POST.
  const throughput = async (withKey: boolean) => {
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < RUNS_PER_ROUND) {
          next += 1;
          const { runId } = await post(runBody([s3Task()]), withKey ? randomUUID() : undefined);
          await finished(runId);
        }
      }),
    );
    return RUNS_PER_ROUND / ((performance.now() - start) / 1000);
  };
  const withKey: number[] = [];
  const withoutKey: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    if (round % 2 === 0) {
      withKey.push(await throughput(true));
      withoutKey.push(await throughput(false));
    } else {
      withoutKey.push(await throughput(false));
      withKey.push(await throughput(true));
    }
  }
  rows.push([
    `golden path runs/s (concurrency ${CONCURRENCY}), with Idempotency-Key vs without`,
    `${median(withKey).toFixed(1)}/s`,
    `${median(withoutKey).toFixed(1)}/s`,
    (median(withKey) / median(withoutKey)).toFixed(2),
  ]);

  const body = runBody([s3Task()]);
  const key = randomUUID();
  await finished((await post(body, key)).runId);
  const duplicateMs: number[] = [];
  const freshMs: number[] = [];
  for (let i = 0; i < ROUNDS * 4; i += 1) {
    let t = performance.now();
    const again = await post(body, key);
    duplicateMs.push(performance.now() - t);
    if (again.created) throw new Error('a duplicate POST created a run');
    t = performance.now();
    const fresh = await post(runBody([s3Task()]), randomUUID());
    freshMs.push(performance.now() - t);
    await finished(fresh.runId);
  }
  rows.push([
    'POST /runs: duplicate (Idempotency-Key memo answers) vs fresh, per request',
    `${median(duplicateMs).toFixed(1)} ms`,
    `${median(freshMs).toFixed(1)} ms`,
    (median(duplicateMs) / median(freshMs)).toFixed(2),
  ]);

  // 3. A replayed ApplyTask on an applied task: the task memo answers without calling the action.
  const { handler: applyTaskHandler } = await import('../functions/handlers/run/apply-task.ts');
  const { lambdaContext } = await import('../local/lambda-context.ts');
  const { runId } = await post(runBody([s3Task()]));
  await finished(runId);
  const before = snapshot();
  const start = totalRequests();
  const replay = (await applyTaskHandler({ runId, correlationId: 'bench', taskIndex: 0 }, lambdaContext('maestro-run-apply-task') as never)) as {
    status: string;
  };
  notes.push(
    `  a replayed ApplyTask on an applied task: status ${replay.status}, ${totalRequests() - start} DynamoDB request(s) ${JSON.stringify(diff(before))}, no S3 write`,
  );
} finally {
  sfn.destroy();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const header = ['exactly-once (medians, interleaved rounds)', 'A', 'B', 'A/B'];
const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ');
console.log(`\n${ROUNDS} rounds of ${RUNS_PER_ROUND} runs; DynamoDB requests counted per HTTP attempt.\n`);
console.log(line(header));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const row of rows) console.log(line(row));
console.log('');
for (const note of notes) console.log(note);
