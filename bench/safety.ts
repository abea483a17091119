/**
 * The safety envelope's cost: the whole apply gate per task (the apply's read through loadForApply,
 * then kill switch, autonomy, freeze and Cedar, as applyTask runs them; the kill switch and the DR
 * quiesce flags are ConditionChecks in the claim's transaction, whose extra cost is measured on a
 * claim-shaped transaction with and without them; a rate limit is one conditional write more) next
 * to a bare DynamoDB GetItem,
 * measured side by side in interleaved rounds; then Cedar decision latency over 10,000 evaluations of
 * the apply's policy gate, each on a resource of its own (as every task brings a new one), in the
 * process warmed by those rounds (the engine reuses the decision of a request the policies cannot tell
 * apart, so most are not Cedar calls), and again with a new principal each time (every one a Cedar
 * call). The first decision of the process (which validates its request shape against the schema) is
 * printed apart.
 *
 * BENCH_CEDAR_EVALUATIONS (10000), BENCH_ROUNDS (15), BENCH_OPS (20 per round and measure).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetCommand, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Run, Task, TaskPlan } from '../functions/core/runs/model.ts';
import { loadForApply } from '../functions/core/runs/load-run.ts';
import { actionRateGate, applyGate, changesSomething, policyGate, readControl } from '../functions/core/safety/gates.ts';
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
    // As the plan step records it: the apply then reads its run and task only (load-run.ts).
    lockResources: ['s3://maestro-demo/bench/a.txt'],
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

  // The first decision of this process: its request shape is validated against the schema (policy-engine.ts).
  const firstStart = performance.now();
  policyGate(deps, { gate: 'apply', run, task, action, plan, control, now: new Date() });
  const firstDecision = performance.now() - firstStart;

  // 1. The whole apply gate vs a bare GetItem, interleaved: what applyTask does before it takes locks,
  // the read (loadForApply: run and task in one TransactGetItems; the control record only under a freeze)
  // and the decisions (kill switch, autonomy, freeze, then Cedar for a plan that changes something); a
  // rate limit, where one is configured, is one conditional write more.
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const gate = async () => {
    const loaded = await loadForApply(deps, run.id, 0);
    const now = new Date();
    await applyGate(deps, { run: loaded.run, action, control: loaded.control, now, plan: loaded.task!.plan });
    if (changesSomething(loaded.task!.plan))
      policyGate(deps, { gate: 'apply', run: loaded.run, task: loaded.task!, action, plan: loaded.task!.plan!, control: loaded.control, now });
  };
  const gateWithRateLimit = async () => {
    await gate();
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
  // What the gate no longer reads is checked in the claim's transaction (load-run.ts): a claim-shaped
  // TransactWriteItems (run head, task, event, outbox row) with and without those ConditionChecks.
  let claimSeq = 0;
  const claimShaped = (withChecks: boolean) => {
    claimSeq += 1;
    const pk = `BENCH#claim-${withChecks ? 'checked' : 'bare'}`;
    return documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: stack.stateTable,
              Key: { pk, sk: 'RUN' },
              UpdateExpression: 'SET eventSeq = :seq',
              ExpressionAttributeValues: { ':seq': claimSeq },
            },
          },
          {
            Update: {
              TableName: stack.stateTable,
              Key: { pk, sk: 'TASK#0000' },
              UpdateExpression: 'SET attempt = :seq',
              ExpressionAttributeValues: { ':seq': claimSeq },
            },
          },
          { Put: { TableName: stack.stateTable, Item: { pk, sk: `EVENT#${claimSeq}`, type: 'TaskApplying' } } },
          { Put: { TableName: stack.stateTable, Item: { pk: `${pk}#OUTBOX`, sk: `EVENT#${claimSeq}`, type: 'TaskApplying' } } },
          ...(withChecks
            ? [
                {
                  ConditionCheck: {
                    TableName: stack.stateTable,
                    Key: { pk: 'CONTROL', sk: 'CONTROL' },
                    ConditionExpression: 'attribute_not_exists(killSwitch.engaged) OR killSwitch.engaged = :off',
                    ExpressionAttributeValues: { ':off': false },
                  },
                },
                ...deps.applyReads!.quiesceTargets.map((target) => ({
                  ConditionCheck: {
                    TableName: stack.stateTable,
                    Key: { pk: 'DR#QUIESCE', sk: target },
                    ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now',
                    ExpressionAttributeNames: { '#until': 'until' },
                    ExpressionAttributeValues: { ':now': new Date().toISOString() },
                  },
                })),
              ]
            : []),
        ],
      }),
    );
  };
  const claimTimes: number[] = [];
  const checkedClaimTimes: number[] = [];
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
      await time(() => claimShaped(true), checkedClaimTimes);
      await time(() => claimShaped(false), claimTimes);
    } else {
      await time(() => claimShaped(false), claimTimes);
      await time(() => claimShaped(true), checkedClaimTimes);
      await time(bareRead, readTimes);
      await time(gateWithRateLimit, rateTimes);
      await time(getItem, getTimes);
      await time(gate, gateTimes);
    }
  }
  // 2. Cedar alone: the apply's policy gate (managed resources, then Cedar), each evaluation on a key of
  // its own, as each task brings its resource. Wall time, and this process's CPU time over the same call
  // (what a busy machine's scheduler adds to the first, not the second).
  const keys = Array.from({ length: EVALUATIONS }, (_, i) => `bench/${i}.txt`);
  const decide = (principalOf: (i: number) => Run) => {
    const wall: number[] = [];
    const cpuTimes: number[] = [];
    for (let i = 0; i < EVALUATIONS; i += 1) {
      const key = keys[i];
      const keyed = { ...task, params: { ...task.params, key }, plan: { ...plan, resource: `s3://maestro-demo/${key}` } };
      const runOf = principalOf(i);
      const cpu = process.cpuUsage();
      const start = performance.now();
      policyGate(deps, { gate: 'apply', run: runOf, task: keyed, action, plan: keyed.plan, control, now: new Date() });
      wall.push(performance.now() - start);
      const used = process.cpuUsage(cpu);
      cpuTimes.push((used.user + used.system) / 1000);
    }
    return { wall, cpuTimes };
  };
  const { wall: samples, cpuTimes: cpuSamples } = decide(() => run);
  // The same with a principal of its own each time: no earlier decision applies, so every one is a Cedar call (policy-engine.ts).
  const runs = keys.map((_, i) => ({ ...run, requestedBy: `bench-${i}` }));
  const { wall: missSamples } = decide((i) => runs[i]);

  const gateMedian = quantile(gateTimes, 0.5);
  const rateMedian = quantile(rateTimes, 0.5);
  const getMedian = quantile(getTimes, 0.5);
  const cedarP99 = quantile(samples, 0.99);
  const readMedian = quantile(readTimes, 0.5);
  const checksCost = quantile(checkedClaimTimes, 0.5) - quantile(claimTimes, 0.5);
  console.log(`\nSafety envelope (${EVALUATIONS} Cedar evaluations; ${ROUNDS} interleaved rounds of ${OPS})\n`);
  console.log(
    `Cedar decision            p50 ${(quantile(samples, 0.5) * 1000).toFixed(0)} µs   p99 ${(quantile(samples, 0.99) * 1000).toFixed(0)} µs   (the apply's policy gate: managed resources + Cedar, a new resource each time)`,
  );
  console.log(
    `  every one a Cedar call  p50 ${(quantile(missSamples, 0.5) * 1000).toFixed(0)} µs   p99 ${(quantile(missSamples, 0.99) * 1000).toFixed(0)} µs   (a new principal too, so no earlier decision applies)`,
  );
  console.log(
    `  the process's first     ${(firstDecision * 1000).toFixed(0)} µs   (loads Cedar, parses and validates the policies, validates the request's shape; later ones of that shape skip all three)`,
  );
  console.log(
    `  CPU time per decision   p50 ${(quantile(cpuSamples, 0.5) * 1000).toFixed(0)} µs   p99 ${(quantile(cpuSamples, 0.99) * 1000).toFixed(0)} µs   (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`,
  );
  console.log(
    `apply gate per task       ${gateMedian.toFixed(2)} ms  (loadForApply: run + task in one TransactGetItems; kill switch, autonomy, freeze, Cedar)`,
  );
  console.log(`  with a rate limit        ${rateMedian.toFixed(2)} ms  (the same, and the action's token bucket: one conditional write)`);
  console.log(
    `  its checks in the claim  ${checksCost >= 0 ? '+' : ''}${checksCost.toFixed(2)} ms  (kill switch + ${deps.applyReads!.quiesceTargets.length} quiesce flag(s) as ConditionChecks: claim-shaped TransactWriteItems ${quantile(checkedClaimTimes, 0.5).toFixed(2)} vs ${quantile(claimTimes, 0.5).toFixed(2)} ms without)`,
  );
  console.log(`bare DynamoDB GetItem     ${getMedian.toFixed(2)} ms`);
  console.log(`gate / GetItem            ${(gateMedian / getMedian).toFixed(2)}   (target <= 1.5: ${gateMedian / getMedian <= 1.5 ? 'met' : 'NOT met'})`);
  console.log(
    checksCost >= 0
      ? `  with its claim checks    ${((gateMedian + checksCost) / getMedian).toFixed(2)}   (the gate's whole cost, its share of the claim included)`
      : `  with its claim checks    –      (the checks' cost is below this run's noise: the transaction with them was the faster one)`,
  );
  console.log(`  with a rate limit        ${(rateMedian / getMedian).toFixed(2)}`);
  console.log(
    `the apply's read alone    ${readMedian.toFixed(2)} ms  (run + task, TransactGetItems: what an apply reads with no gate); that / GetItem ${(readMedian / getMedian).toFixed(2)}, gate / that ${(gateMedian / readMedian).toFixed(2)}`,
  );
  console.log(
    `Cedar p99 / target       ${(cedarP99 * 1000).toFixed(0)} µs / 200 µs = ${(cedarP99 / 0.2).toFixed(2)}   (${cedarP99 <= 0.2 ? 'met' : 'NOT met'})`,
  );
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
