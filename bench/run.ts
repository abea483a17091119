/**
 * `npm run bench`: measurements side by side, in one run, on the embedded stack. These machines are
 * noisy, so every figure that matters is a ratio of two things measured interleaved, round by round.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRunRepository } from '../functions/adapters/dynamo-run-repository.ts';
import type { Run } from '../functions/core/runs/model.ts';
import { defaultCatalog } from '../functions/actions/catalog.ts';
import type { TaskPlan } from '../functions/core/runs/model.ts';
import { executeTask, executorClassOf } from '../functions/core/runs/task-executor.ts';
import { createExecutorDeps } from '../functions/handlers/run/executor-deps.ts';
import { createIsolatedApply } from '../local/sandbox/isolated-apply.ts';
import type { StateEventNotice } from '../local/sfn/history-events.ts';
import { startEmbeddedStack } from '../local/stack.ts';
import { countRequests } from './counters.ts';
import { cpuSplit } from './process-cpu.ts';

// What each run costs in requests, counted on every client of this process (the hosted handlers' too).
const dynamodbRequests = countRequests('DynamoDb', [DynamoDBClient, DynamoDBDocumentClient]);
const s3Requests = countRequests('S3', [S3Client]);
// The bench creates many runs: lift the per-principal rate limit for this process only.
process.env.MAESTRO_CONFIG__rateLimits__perPrincipal ??= '{capacity: 100000, refillPerSecond: 1000}';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const THROUGHPUT_RUNS = Number(process.env.BENCH_THROUGHPUT_RUNS ?? 48);
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 3);
const WARM_UP_MAX_ROUNDS = Number(process.env.BENCH_WARM_UP_ROUNDS ?? 6);
const CORES = availableParallelism();
/** Runs per count sample (the counts are the same run to run; the median guards against a retry). */
const COUNT_SAMPLES = Number(process.env.BENCH_COUNT_SAMPLES ?? 3);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const OPS_PER_ROUND = Number(process.env.BENCH_OPS ?? 20);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Runs `a` and `b` alternately, ROUNDS times, and returns each one's per-round medians. */
async function sideBySide(a: () => Promise<unknown>, b: () => Promise<unknown>, opsPerRound: number) {
  const aTimes: number[] = [];
  const bTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const first = round % 2 === 0;
    const runA = async () =>
      aTimes.push(
        (await timed(async () => {
          for (let i = 0; i < opsPerRound; i += 1) await a();
        })) / opsPerRound,
      );
    const runB = async () =>
      bTimes.push(
        (await timed(async () => {
          for (let i = 0; i < opsPerRound; i += 1) await b();
        })) / opsPerRound,
      );
    if (first) {
      await runA();
      await runB();
    } else {
      await runB();
      await runA();
    }
  }
  return { a: median(aTimes), b: median(bTimes) };
}

/** The ratio #15 asks of a one-task APPLY run against the same run in PLAN mode. */
const APPLY_PLAN_TARGET = 1.5;

/**
 * Where a run's time goes: each top-level state's time from entered to exited, per run mode, from the
 * local Step Functions' history events (the run's id is the execution's name).
 */
const modes = new Map<string, 'APPLY' | 'PLAN'>();
const entered = new Map<string, number>();
const profile = new Map<string, number[]>();
/** Runs waited on by the bench: settled by the execution's own end event (no polling). */
const ended = new Map<string, { status: string; waiters: ((status: string) => void)[] }>();
const executionEnd = (runId: string) =>
  new Promise<string>((resolve) => {
    const entry = ended.get(runId) ?? { status: '', waiters: [] };
    ended.set(runId, entry);
    if (entry.status) resolve(entry.status);
    else entry.waiters.push(resolve);
  });
const onStateEvent = (event: StateEventNotice) => {
  const runId = event.executionArn.slice(event.executionArn.lastIndexOf(':') + 1);
  if (/^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(event.type)) {
    const entry = ended.get(runId) ?? { status: '', waiters: [] };
    entry.status = event.type.slice('Execution'.length).toUpperCase();
    ended.set(runId, entry);
    for (const waiter of entry.waiters.splice(0)) waiter(entry.status);
  }
  if (!event.stateName) return;
  const key = `${event.executionArn}|${event.stateName}`;
  // A run's first state may start before POST /runs has answered with its id: the mode is looked up at the exit.
  if (event.type.endsWith('StateEntered')) entered.set(key, event.ts);
  const mode = modes.get(runId);
  if (mode !== undefined && event.type.endsWith('StateExited') && entered.has(key)) {
    const samples = profile.get(`${mode}|${event.stateName}`) ?? [];
    samples.push(event.ts - entered.get(key)!);
    profile.set(`${mode}|${event.stateName}`, samples);
    entered.delete(key);
  }
};
const profileMedians = () => {
  const byMode = { APPLY: new Map<string, number>(), PLAN: new Map<string, number>() };
  for (const [key, samples] of profile) {
    const [mode, state] = key.split('|') as ['APPLY' | 'PLAN', string];
    byMode[mode].set(state, median(samples));
  }
  return byMode;
};

const dataDir = mkdtempSync(join(tmpdir(), 'maestro-bench-'));
// The approval sweeper every minute, as in AWS (its background Query would otherwise count against the runs).
const stack = await startEmbeddedStack({ dataDir, apiPort: 0, onStateEvent, approvalSweepMs: 60_000 });
// This process's own SDK clients reach the stack's services through the SDK's variables.
Object.assign(process.env, stack.clientEnvironment);
const headers = { authorization: 'Bearer dev-operator', 'content-type': 'application/json' };
const rows: string[][] = [];
const notes: string[] = [];
/** The figures of the run-loop issue: measured, target, ratio (to the floor or the other side), met or not. */
const targets: string[][] = [];
const target = (figure: string, measured: string, goal: string, ratio: string, met: boolean) => {
  targets.push([figure, measured, goal, ratio, met ? 'yes' : 'NO']);
  // As it is measured too: on a loaded machine the whole bench takes minutes.
  console.error(`[bench] ${figure}: ${measured} (target ${goal}; ${ratio})`);
};
/** Which parts run: all, or a comma-separated list of `counts`, `throughput`, `timings`. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'counts,throughput,timings').split(','));
const sfn = new SFNClient({ endpoint: stack.endpoints.stepfunctions });
const executionArnOf = (runId: string) => `${stack.runStateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
const s3Task = () => ({ action: 's3.put-object', params: { bucket: stack.demoBucket, key: `bench/${randomUUID()}.txt`, body: 'bench\n' } });
const noopTask = () => ({ action: 'noop', params: {} });
/** POST /runs (APPLY) and the execution's end, from its own end event. */
const applyRun = async (tasks: unknown[]) => {
  const response = await fetch(`${stack.endpoints.api}/runs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ goal: 'bench', mode: 'APPLY', reasonForAccess: 'benchmark of the run loop', tasks }),
  });
  if (response.status !== 201) throw new Error(`POST /runs: ${response.status} ${await response.text()}`);
  const { runId } = (await response.json()) as { runId: string };
  const status = await executionEnd(runId);
  if (status !== 'SUCCEEDED') throw new Error(`bench run ${runId} ended ${status}`);
  return runId;
};
/** Executor calls (in AWS, each one a Lambda invocation of an executor function), by operation. */
const executorCalls = new Map<string, number>();
const executor = stack.deps.executor;
const execute = executor.execute.bind(executor);
executor.execute = (request) => {
  executorCalls.set(request.operation, (executorCalls.get(request.operation) ?? 0) + 1);
  return execute(request);
};
// A batch (a run's plans, or its verifies) is one call per executor function it reaches, as
// LambdaTaskExecutor invokes them: by executor class and pack, at most 25 requests an invocation.
const executeBatch = executor.executeBatch?.bind(executor);
if (executeBatch) {
  executor.executeBatch = (requests) => {
    const groups = new Map<string, number>();
    for (const request of requests) {
      const action = stack.deps.catalog.get(request.action, request.actionVersion);
      const key = `${executorClassOf(request.operation, action)}|${stack.deps.catalog.packOf(request.action).name}`;
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    const calls = [...groups.values()].reduce((sum, n) => sum + Math.ceil(n / 25), 0);
    // A batch carries one operation (planRun's plans, verifyRun's verifies).
    const operation = requests[0]?.operation ?? 'plan';
    executorCalls.set(operation, (executorCalls.get(operation) ?? 0) + calls);
    return executeBatch(requests);
  };
}
const sumOf = (counts: Map<string, number>) => [...counts.values()].reduce((sum, n) => sum + n, 0);
/** State transitions (states entered) and Lambda invocations the workflow scheduled, from the execution's history. */
async function billOf(runId: string): Promise<{ transitions: number; invocations: number }> {
  let transitions = 0;
  let invocations = 0;
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn: executionArnOf(runId), nextToken, maxResults: 1000 }));
    for (const event of page.events ?? []) {
      if (event.type?.endsWith('StateEntered')) transitions += 1;
      if (event.type === 'LambdaFunctionScheduled' || event.type === 'TaskScheduled') invocations += 1;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return { transitions, invocations };
}

try {
  // 0. What one task costs, in counts (load-independent): a run of 6 tasks against a run of 1, medians of 3 each.
  await applyRun([s3Task()]);
  await applyRun([noopTask()]);
  if (PARTS.has('counts')) {
    const costOf = async (tasks: () => unknown[]) => {
      const samples: { dynamodb: number; s3: number; transitions: number; invocations: number; executor: number; byOperation: Record<string, number> }[] = [];
      for (let i = 0; i < COUNT_SAMPLES; i += 1) {
        const before = dynamodbRequests.snapshot();
        const [dynamodb0, s30, executor0] = [dynamodbRequests.total(), s3Requests.total(), sumOf(executorCalls)];
        const runId = await applyRun(tasks());
        const byOperation = dynamodbRequests.since(before);
        const cost = { dynamodb: dynamodbRequests.total() - dynamodb0, s3: s3Requests.total() - s30, executor: sumOf(executorCalls) - executor0 };
        samples.push({ ...cost, ...(await billOf(runId)), byOperation });
      }
      const pick = (key: 'dynamodb' | 's3' | 'transitions' | 'invocations' | 'executor') => median(samples.map((sample) => sample[key]));
      return {
        dynamodb: pick('dynamodb'),
        s3: pick('s3'),
        transitions: pick('transitions'),
        invocations: pick('invocations'),
        executor: pick('executor'),
        byOperation: samples.at(-1)!.byOperation,
      };
    };
    const marginals: Record<string, { dynamodb: number; s3: number; transitions: number; invocations: number; executor: number }> = {};
    for (const [label, make] of [
      ['noop', noopTask],
      ['s3.put-object', s3Task],
    ] as const) {
      const one = await costOf(() => [make()]);
      const six = await costOf(() => Array.from({ length: 6 }, make));
      const per = (key: keyof typeof one & ('dynamodb' | 's3' | 'transitions' | 'invocations' | 'executor')) => (six[key] - one[key]) / 5;
      marginals[label] = {
        dynamodb: per('dynamodb'),
        s3: per('s3'),
        transitions: per('transitions'),
        invocations: per('invocations'),
        executor: per('executor'),
      };
      const m = marginals[label];
      target(
        `DynamoDB requests per ${label} task (marginal, 6-task − 1-task run) vs the floor of 2`,
        m.dynamodb.toFixed(1),
        '<= 3',
        `${(m.dynamodb / 2).toFixed(2)}x`,
        m.dynamodb <= 3,
      );
      notes.push(
        `  ${label}: run of 1 task ${one.dynamodb} DynamoDB requests ${JSON.stringify(one.byOperation)}, of 6 tasks ${six.dynamodb} ${JSON.stringify(six.byOperation)}; the action's own S3 requests apart: ${m.s3.toFixed(1)} per task`,
      );
    }
    for (const [label, m] of Object.entries(marginals)) {
      target(
        `Step Functions state transitions per ${label} task (marginal, from the execution history)`,
        m.transitions.toFixed(1),
        '<= 5',
        `${(m.transitions / 5).toFixed(2)}x`,
        m.transitions <= 5,
      );
      target(
        `Lambda invocations per ${label} task: workflow steps (history)`,
        m.invocations.toFixed(1),
        '<= 2',
        `${(m.invocations / 2).toFixed(2)}x`,
        m.invocations <= 2,
      );
      target(
        `  + executor calls per ${label} task (a Lambda invocation each in AWS)`,
        (m.invocations + m.executor).toFixed(1),
        '<= 2',
        `${((m.invocations + m.executor) / 2).toFixed(2)}x`,
        m.invocations + m.executor <= 2,
      );
    }
  }

  if (PARTS.has('throughput')) {
    // 0b. Throughput at concurrency 8: one-task APPLY runs per second, with DynamoDB Local's own rate of
    // two-item transactions measured beside it (interleaved): the floor is that rate ÷ 4, about the
    // transactions a one-task run cannot do without (create, plan, claim, outcome).
    const documents0 = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const transactionRate = async (count: number) => {
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < count) {
            next += 1;
            const id = randomUUID();
            await documents0.send(
              new TransactWriteCommand({
                TransactItems: [
                  { Put: { TableName: stack.stateTable, Item: { pk: `BENCH#${id}`, sk: 'A', n: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
                  { Put: { TableName: stack.stateTable, Item: { pk: `BENCH#${id}`, sk: 'B', n: 2 }, ConditionExpression: 'attribute_not_exists(pk)' } },
                ],
              }),
            );
          }
        }),
      );
      return count / ((performance.now() - start) / 1000);
    };
    type CpuPerRun = { dynamoDbLocal: number; self: number; machine: number };
    /** CPU per run of each arm, counted rounds only: DynamoDB Local's JVM, this process (the stack, its stand-ins, the bench's client), the whole machine. */
    const cpuPerRun = new Map<string, { [K in keyof CpuPerRun]: number[] }>();
    const recordCpu = (arm: string, cpu: CpuPerRun | undefined) => {
      if (!cpu) return;
      const entry = cpuPerRun.get(arm) ?? { dynamoDbLocal: [], self: [], machine: [] };
      for (const key of ['dynamoDbLocal', 'self', 'machine'] as const) entry[key].push(cpu[key]);
      cpuPerRun.set(arm, entry);
    };
    /** `count` runs at concurrency: their rate, the keys they wrote, and the CPU per run (ms; undefined without /proc). */
    const throughput = async (make: () => { action: string; params: Record<string, unknown> }, count: number) => {
      const keys: string[] = [];
      let next = 0;
      const cpuBefore = cpuSplit();
      const start = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < count) {
            next += 1;
            const task = make();
            if (typeof task.params.key === 'string') keys.push(task.params.key);
            await applyRun([task]);
          }
        }),
      );
      const perSecond = count / ((performance.now() - start) / 1000);
      const cpuAfter = cpuSplit();
      const perRun = (before: number, after: number) => ((after - before) / count) * 1000;
      const cpu: CpuPerRun | undefined =
        cpuBefore && cpuAfter
          ? {
              dynamoDbLocal: perRun(cpuBefore.dynamoDbLocal, cpuAfter.dynamoDbLocal),
              self: perRun(cpuBefore.self, cpuAfter.self),
              machine: perRun(cpuBefore.machine, cpuAfter.machine),
            }
          : undefined;
      return { perSecond, keys, cpu };
    };
    const s3 = new S3Client({ forcePathStyle: true });
    const goldenRates: number[] = [];
    const noopRates: number[] = [];
    const txRates: number[] = [];
    const written: string[] = [];
    // Warm-up rounds first, not counted, until DynamoDB Local's CPU per run settles (moves by less than
    // a tenth from one round to the next): its JIT keeps compiling for hundreds of runs, which is the
    // stand-in's cost, not the run loop's. Then rounds in alternating order, so that neither arm always
    // runs first. The warm-up's keys are checked for duplicates too.
    const warmUp: number[] = [];
    for (let round = 0; round < WARM_UP_MAX_ROUNDS; round += 1) {
      const golden = await throughput(s3Task, THROUGHPUT_RUNS / 2);
      written.push(...golden.keys);
      const noop = await throughput(noopTask, THROUGHPUT_RUNS / 2);
      if (!golden.cpu || !noop.cpu) break; // no /proc here: one round
      // Half the round's runs each: the round's CPU per run is the mean of the two.
      warmUp.push((golden.cpu.dynamoDbLocal + noop.cpu.dynamoDbLocal) / 2);
      if (warmUp.length >= 2 && Math.abs(warmUp.at(-1)! - warmUp.at(-2)!) < warmUp.at(-2)! / 10) break;
    }
    await transactionRate(100);
    for (let round = 0; round < THROUGHPUT_ROUNDS; round += 1) {
      txRates.push(await transactionRate(200));
      const golden = async () => {
        const result = await throughput(s3Task, THROUGHPUT_RUNS);
        goldenRates.push(result.perSecond);
        written.push(...result.keys);
        recordCpu('s3.put-object', result.cpu);
      };
      const noop = async () => {
        const result = await throughput(noopTask, THROUGHPUT_RUNS);
        noopRates.push(result.perSecond);
        recordCpu('noop', result.cpu);
      };
      for (const arm of round % 2 === 0 ? [golden, noop] : [noop, golden]) await arm();
      txRates.push(await transactionRate(200));
    }
    // Duplicate effects: every golden-path key must have exactly one object version.
    let duplicates = 0;
    for (const key of written) {
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: key }));
      duplicates += Math.max(0, (versions.Versions ?? []).filter((version) => version.Key === key).length - 1);
    }
    const txRate = median(txRates);
    const floor = txRate / 4;
    for (const [label, rate] of [
      ['s3.put-object', median(goldenRates)],
      ['noop', median(noopRates)],
    ] as const) {
      target(
        `golden path: one-task APPLY runs/s (${label}, concurrency ${CONCURRENCY}) vs the floor (DynamoDB Local ${txRate.toFixed(0)} tx/s ÷ 4)`,
        `${rate.toFixed(1)}/s`,
        '>= 20/s, >= 0.6x floor',
        `${(rate / floor).toFixed(2)}x`,
        rate >= 20 && rate / floor >= 0.6,
      );
    }
    notes.push(
      `  throughput warm-up: ${warmUp.length} round(s) of ${THROUGHPUT_RUNS} runs, not counted; DynamoDB Local's CPU per run ${warmUp.map((ms) => ms.toFixed(0)).join(' -> ')} ms`,
    );
    for (const [arm, cpu] of cpuPerRun) {
      const [dynamoDbLocal, self, machine] = [median(cpu.dynamoDbLocal), median(cpu.self), median(cpu.machine)];
      notes.push(
        `  ${arm}: CPU per run at concurrency ${CONCURRENCY} (median of ${cpu.self.length} rounds): DynamoDB Local ${dynamoDbLocal.toFixed(0)} ms, this process (the stack, its stand-ins, the bench) ${self.toFixed(0)} ms, the whole machine ${machine.toFixed(0)} ms (the sandbox workers and the kernel too). ${CORES} cores at the machine's: at most ${((CORES * 1000) / machine).toFixed(1)} runs/s, whatever the waits`,
      );
    }
    target(`duplicate effects over ${written.length} golden-path runs (object versions beyond one per key)`, String(duplicates), '0', '-', duplicates === 0);
    s3.destroy();
    documents0.destroy();
  }
  if (PARTS.has('timings')) {
    // 1. What the audit trail costs: a journaled commit (transaction: run head + event) vs a bare PutItem.
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
    const repository = new DynamoRunRepository({ client: documents, tableName: stack.stateTable });
    const now = new Date().toISOString();
    const run: Run = {
      id: randomUUID(),
      goal: 'bench',
      mode: 'PLAN',
      environment: 'dev',
      status: 'PENDING',
      autonomy: 3,
      requestedBy: 'bench',
      correlationId: 'bench',
      createdAt: now,
      updatedAt: now,
      taskCount: 0,
      eventSeq: 0,
      lastEventHash: '',
    };
    await repository.create({ run, tasks: [], events: [] });
    let n = 0;
    const journaled = () => repository.commit(run.id, { events: [{ type: 'BenchEvent', message: 'tick' }] });
    const barePut = () => documents.send(new PutCommand({ TableName: stack.stateTable, Item: { pk: `BENCH#${run.id}`, sk: `${(n += 1)}`, message: 'tick' } }));
    const commit = await sideBySide(journaled, barePut, OPS_PER_ROUND);
    rows.push(['journaled commit (read head + transaction) vs bare PutItem', fmt(commit.a), fmt(commit.b), (commit.a / commit.b).toFixed(2)]);

    // 2. What a run costs end to end, APPLY (one S3 write, verified) vs PLAN only, through the HTTP API and the workflow.
    const runOnce = async (mode: 'PLAN' | 'APPLY') => {
      const response = await fetch(`${stack.endpoints.api}/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          goal: 'bench',
          mode,
          reasonForAccess: 'benchmark of the run workflow',
          tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: `bench/${randomUUID()}.txt`, body: 'bench\n' } }],
        }),
      });
      const { runId } = (await response.json()) as { runId: string };
      modes.set(runId, mode);
      // The execution's end event (the run is recorded finished by then: Finalize runs before the end).
      const status = await executionEnd(runId);
      if (status !== 'SUCCEEDED') throw new Error(`bench run ${runId} ended ${status}`);
    };
    // Warm-up first (the warm sandbox worker of s3.put-object starts at the first apply), then side by side.
    for (let i = 0; i < 2; i += 1) for (const mode of ['APPLY', 'PLAN'] as const) await runOnce(mode);
    profile.clear();
    const runs = await sideBySide(
      () => runOnce('APPLY'),
      () => runOnce('PLAN'),
      2,
    );
    const warmProfile = profileMedians();
    rows.push(['run, APPLY (one S3 write, warm sandbox) vs PLAN only, HTTP to finished', fmt(runs.a), fmt(runs.b), (runs.a / runs.b).toFixed(2)]);
    target(
      'one-task run, APPLY (one S3 write, warm sandbox) vs the same run in PLAN mode',
      `${fmt(runs.a)} / ${fmt(runs.b)}`,
      `<= ${APPLY_PLAN_TARGET}`,
      (runs.a / runs.b).toFixed(2),
      runs.a / runs.b <= APPLY_PLAN_TARGET,
    );

    // The same, with a fresh sandbox process for every apply (what the stack did before the warm pools).
    stack.reconfigure({ sandbox: { maxWorkers: 0 } });
    await runOnce('APPLY');
    profile.clear();
    const forked = await sideBySide(
      () => runOnce('APPLY'),
      () => runOnce('PLAN'),
      2,
    );
    const forkProfile = profileMedians();
    stack.reconfigure();
    rows.push(['run, APPLY (fork per apply: sandbox.maxWorkers 0) vs PLAN only', fmt(forked.a), fmt(forked.b), (forked.a / forked.b).toFixed(2)]);
    notes.push('where a run spends its time (median ms per state; APPLY warm | APPLY fork per apply | PLAN):');
    for (const state of new Set([...warmProfile.APPLY.keys(), ...warmProfile.PLAN.keys()])) {
      const cell = (values: Map<string, number>) => (values.has(state) ? values.get(state)!.toFixed(1).padStart(8) : '       -');
      notes.push(`  ${state.padEnd(16)} ${cell(warmProfile.APPLY)} | ${cell(forkProfile.APPLY)} | ${cell(warmProfile.PLAN)}`);
    }

    // 2b. The apply alone (s3.put-object, planned beforehand, untimed), as the executor calls it: in a warm
    // sandbox worker, in a fresh sandbox process, and in this process. What the sandbox costs per apply.
    const executorDeps = createExecutorDeps(stack.config);
    const warmSandbox = createIsolatedApply(stack.config);
    const freshSandbox = createIsolatedApply({ ...stack.config, sandbox: { ...stack.config.sandbox, maxWorkers: 0 } });
    try {
      const action = defaultCatalog().get('s3.put-object');
      const planned = async () => {
        const base = {
          action: action.name,
          actionVersion: action.version,
          runId: randomUUID(),
          environment: 'dev',
          taskIndex: 0,
          idempotencyKey: randomUUID(),
          attempt: 1,
        };
        const params = { bucket: stack.demoBucket, key: `bench/apply-${randomUUID()}.txt`, body: 'bench\n' };
        const plan = (await executeTask(executorDeps, { ...base, operation: 'plan', params })) as TaskPlan;
        return { ...base, operation: 'apply' as const, plan, timeMs: 10_000 };
      };
      type ApplyRequest = Awaited<ReturnType<typeof planned>>;
      /** Times only the apply; each call plans a fresh key first (a second apply of one plan would be a replay). */
      const applyTimer = (apply: (request: ApplyRequest) => Promise<unknown>) => {
        const times: number[] = [];
        const run = async () => {
          const request = await planned();
          const start = performance.now();
          await apply(request);
          times.push(performance.now() - start);
        };
        return { run, median: () => median(times.splice(0)) };
      };
      const warm = applyTimer(warmSandbox);
      const fresh = applyTimer(freshSandbox);
      const local = applyTimer((request) => executeTask(executorDeps, request));
      for (let i = 0; i < 2; i += 1) for (const timer of [warm, local]) await timer.run();
      await sideBySide(warm.run, local.run, 5);
      const [warmMs, localWarmMs] = [warm.median(), local.median()];
      rows.push(['s3.put-object apply: warm sandbox worker vs in this process', fmt(warmMs), fmt(localWarmMs), (warmMs / localWarmMs).toFixed(2)]);
      await sideBySide(fresh.run, local.run, 1);
      const [freshMs, localFreshMs] = [fresh.median(), local.median()];
      rows.push(['s3.put-object apply: fresh sandbox process vs in this process', fmt(freshMs), fmt(localFreshMs), (freshMs / localFreshMs).toFixed(2)]);
    } finally {
      await Promise.all([warmSandbox.close(), freshSandbox.close()]);
    }

    // 3. What the API Gateway stand-in costs: GET /runs/{id} over HTTP vs the same repository read in-process.
    const viaHttp = () => fetch(`${stack.endpoints.api}/runs/${run.id}`, { headers }).then((response) => response.arrayBuffer());
    const inProcess = () => repository.getWithTasks(run.id);
    const read = await sideBySide(viaHttp, inProcess, OPS_PER_ROUND);
    rows.push(['GET /runs/{id} over HTTP vs repository read in-process', fmt(read.a), fmt(read.b), (read.a / read.b).toFixed(2)]);
  }
} finally {
  sfn.destroy();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const targetHeader = ['run loop figure', 'measured', 'target', 'ratio', 'met'];
const targetWidths = targetHeader.map((_, column) => Math.max(...[targetHeader, ...targets].map((row) => row[column].length)));
const targetLine = (row: string[]) => row.map((cell, column) => cell.padEnd(targetWidths[column])).join('  ');
console.log('\nRun loop: counts are load-independent; rates and times are medians of interleaved rounds.\n');
console.log(targetLine(targetHeader));
console.log(targetWidths.map((width) => '-'.repeat(width)).join('  '));
for (const row of targets) console.log(targetLine(row));

const header = ['comparison (median per op, interleaved rounds)', 'A', 'B', 'A/B'];
const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ');
console.log(`\n${ROUNDS} rounds, interleaved; lower A/B is better for A.\n`);
console.log(line(header));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const row of rows) console.log(line(row));
console.log('');
for (const note of notes) console.log(note);
