/**
 * The safety envelope's cost: Cedar decision latency over 10,000 evaluations, and the whole apply
 * gate per task (control record read, kill switch, autonomy, freeze, rate limit, Cedar) next to a
 * bare DynamoDB GetItem, measured side by side in interleaved rounds.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Run, Task, TaskPlan } from '../functions/core/runs/model.ts';
import { actionRateGate, applyGate, policyGate, readControl } from '../functions/core/safety/gates.ts';
import { startEmbeddedStack } from '../local/stack.ts';

const EVALUATIONS = Number(process.env.BENCH_CEDAR_EVALUATIONS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const OPS = Number(process.env.BENCH_OPS ?? 20);
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];

// A rate limit on the benchmarked action, so the gate pays for its token bucket too.
process.env['MAESTRO_CONFIG__actions__s3.put-object__rateLimit'] = '{capacity: 100000, refillPerSecond: 100000}';
const dataDir = mkdtempSync(join(tmpdir(), 'maestro-bench-safety-'));
const stack = await startEmbeddedStack({ dataDir, apiPort: 0 });
// This process's own SDK clients reach the stack's services through the SDK's variables.
Object.assign(process.env, stack.clientEnvironment);
try {
  const deps = stack.deps;
  const now = new Date().toISOString();
  const run: Run = {
    id: randomUUID(),
    goal: 'bench',
    mode: 'APPLY',
    environment: 'dev',
    status: 'APPLYING',
    autonomy: 3,
    requestedBy: 'bench',
    requesterRoles: ['operator'],
    reasonForAccess: 'benchmark of the gates',
    correlationId: 'bench',
    createdAt: now,
    updatedAt: now,
    taskCount: 1,
    eventSeq: 0,
    lastEventHash: '',
  };
  const plan: TaskPlan = { summary: '', change: 'update', resource: 's3://maestro-demo/bench/a.txt', diff: '', preconditions: {}, data: {} };
  const task: Task = {
    runId: run.id,
    index: 0,
    action: 's3.put-object',
    actionVersion: '1.0.0',
    params: { bucket: 'maestro-demo', key: 'bench/a.txt', body: 'x' },
    status: 'PLANNED',
    attempt: 0,
    idempotencyKey: 'k',
    plan,
    updatedAt: now,
  };
  const action = deps.catalog.get('s3.put-object');
  const control = await readControl(deps);

  // 1. Cedar alone.
  const samples: number[] = [];
  for (let i = 0; i < EVALUATIONS; i += 1) {
    const start = performance.now();
    policyGate(deps, { gate: 'apply', run, task, action, plan, control, now: new Date() });
    samples.push(performance.now() - start);
  }

  // 2. The whole apply gate vs a bare GetItem, interleaved.
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const gate = async () => {
    const current = await readControl(deps);
    await applyGate(deps, { run, action, control: current, now: new Date() });
    await actionRateGate(deps, action, new Date());
    policyGate(deps, { gate: 'apply', run, task, action, plan, control: current, now: new Date() });
  };
  const getItem = () => documents.send(new GetCommand({ TableName: stack.stateTable, Key: { pk: 'CONTROL', sk: 'CONTROL' }, ConsistentRead: true }));
  const gateTimes: number[] = [];
  const getTimes: number[] = [];
  const time = async (fn: () => Promise<unknown>, into: number[]) => {
    const start = performance.now();
    for (let i = 0; i < OPS; i += 1) await fn();
    into.push((performance.now() - start) / OPS);
  };
  for (let round = 0; round < ROUNDS; round += 1) {
    if (round % 2 === 0) {
      await time(gate, gateTimes);
      await time(getItem, getTimes);
    } else {
      await time(getItem, getTimes);
      await time(gate, gateTimes);
    }
  }
  const gateMedian = quantile(gateTimes, 0.5);
  const getMedian = quantile(getTimes, 0.5);
  console.log(`\nSafety envelope (${EVALUATIONS} Cedar evaluations; ${ROUNDS} interleaved rounds of ${OPS})\n`);
  console.log(`Cedar decision            p50 ${(quantile(samples, 0.5) * 1000).toFixed(0)} µs   p99 ${(quantile(samples, 0.99) * 1000).toFixed(0)} µs`);
  console.log(`apply gate per task       ${gateMedian.toFixed(2)} ms  (control read + kill switch + autonomy + freeze + rate limit + Cedar)`);
  console.log(`bare DynamoDB GetItem     ${getMedian.toFixed(2)} ms`);
  console.log(`gate / GetItem            ${(gateMedian / getMedian).toFixed(2)}`);
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
