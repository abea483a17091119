/**
 * The safety envelope's cost: Cedar decision latency over 10,000 evaluations, and the whole apply
 * gate per task (control record read, kill switch, autonomy, freeze, rate limit, Cedar) next to a
 * bare DynamoDB GetItem, measured side by side in interleaved rounds.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetCommand, TransactGetCommand } from '@aws-sdk/lib-dynamodb';
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
  await deps.runs.create({ run, tasks: [task], events: [] });
  const applyReads = deps.applyReads!;

  // 1. Cedar alone.
  // Wall time, and this process's CPU time over the same call (what a busy machine's scheduler adds to the first, not the second).
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  for (let i = 0; i < EVALUATIONS; i += 1) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    policyGate(deps, { gate: 'apply', run, task, action, plan, control, now: new Date() });
    samples.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    cpuSamples.push((used.user + used.system) / 1000);
  }

  // 2. The whole apply gate vs a bare GetItem, interleaved. The gate reads the control record (and the
  // DR quiesce flags) in the one TransactGetItems the apply makes anyway for its run and task, then decides:
  // kill switch, autonomy, freeze, Cedar; a rate limit, where one is configured, is one conditional write more.
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const decide = (current: Awaited<ReturnType<typeof applyReads.read>>) => {
    const snapshot = current!;
    return applyGate(deps, { run: snapshot.run, action, control: snapshot.control, now: new Date(), plan }).then(() =>
      policyGate(deps, { gate: 'apply', run: snapshot.run, task, action, plan, control: snapshot.control, now: new Date() }),
    );
  };
  const initialControl = { killSwitch: { engaged: false } };
  const gate = async () => decide(await applyReads.read({ runId: run.id, taskIndex: 0, initialControl }));
  const gateWithRateLimit = async () => {
    await decide(await applyReads.read({ runId: run.id, taskIndex: 0, initialControl }));
    await actionRateGate(deps, action, new Date());
  };
  // The read an apply needs with no gate at all (its run and task), for the gate's own share of it.
  const bareRead = () =>
    documents.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: stack.stateTable, Key: { pk: `RUN#${run.id}`, sk: 'RUN' } } },
          { Get: { TableName: stack.stateTable, Key: { pk: `RUN#${run.id}`, sk: 'TASK#0000' } } },
        ],
      }),
    );
  const readTimes: number[] = [];
  const getItem = () => documents.send(new GetCommand({ TableName: stack.stateTable, Key: { pk: 'CONTROL', sk: 'CONTROL' }, ConsistentRead: true }));
  const gateTimes: number[] = [];
  const rateTimes: number[] = [];
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
      await time(gateWithRateLimit, rateTimes);
      await time(bareRead, readTimes);
    } else {
      await time(bareRead, readTimes);
      await time(gateWithRateLimit, rateTimes);
      await time(getItem, getTimes);
      await time(gate, gateTimes);
    }
  }
  const gateMedian = quantile(gateTimes, 0.5);
  const rateMedian = quantile(rateTimes, 0.5);
  const getMedian = quantile(getTimes, 0.5);
  const cedarP99 = quantile(samples, 0.99);
  const readMedian = quantile(readTimes, 0.5);
  console.log(`\nSafety envelope (${EVALUATIONS} Cedar evaluations; ${ROUNDS} interleaved rounds of ${OPS})\n`);
  console.log(
    `Cedar decision            p50 ${(quantile(samples, 0.5) * 1000).toFixed(0)} µs   p99 ${(quantile(samples, 0.99) * 1000).toFixed(0)} µs   (the policy gate: managed resources + Cedar)`,
  );
  console.log(
    `  CPU time per decision   p50 ${(quantile(cpuSamples, 0.5) * 1000).toFixed(0)} µs   p99 ${(quantile(cpuSamples, 0.99) * 1000).toFixed(0)} µs   (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`,
  );
  console.log(
    `apply gate per task       ${gateMedian.toFixed(2)} ms  (run + task + control + quiesce flags in one TransactGetItems; kill switch, autonomy, freeze, Cedar)`,
  );
  console.log(`  with a rate limit        ${rateMedian.toFixed(2)} ms  (the same, and the action's token bucket: one conditional write)`);
  console.log(`bare DynamoDB GetItem     ${getMedian.toFixed(2)} ms`);
  console.log(`gate / GetItem            ${(gateMedian / getMedian).toFixed(2)}   (target <= 1.5: ${gateMedian / getMedian <= 1.5 ? 'met' : 'NOT met'})`);
  console.log(`  with a rate limit        ${(rateMedian / getMedian).toFixed(2)}`);
  console.log(
    `the apply's read alone    ${readMedian.toFixed(2)} ms  (run + task, TransactGetItems: what an apply reads with no gate); gate / that ${(gateMedian / readMedian).toFixed(2)}`,
  );
  console.log(
    `Cedar p99 / target       ${(cedarP99 * 1000).toFixed(0)} µs / 200 µs = ${(cedarP99 / 0.2).toFixed(2)}   (${cedarP99 <= 0.2 ? 'met' : 'NOT met'})`,
  );
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
