/**
 * `npm run bench`: measurements side by side, in one run, on the embedded stack. These machines are
 * noisy, so every figure that matters is a ratio of two things measured interleaved, round by round.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRunRepository } from '../functions/adapters/dynamo-run-repository.ts';
import type { Run } from '../functions/core/runs/model.ts';
import { defaultCatalog } from '../functions/actions/catalog.ts';
import type { TaskPlan } from '../functions/core/runs/model.ts';
import { executeTask } from '../functions/core/runs/task-executor.ts';
import { createExecutorDeps } from '../functions/handlers/run/executor-deps.ts';
import { createIsolatedApply } from '../local/sandbox/isolated-apply.ts';
import type { StateEventNotice } from '../local/sfn/history-events.ts';
import { startEmbeddedStack } from '../local/stack.ts';

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
const onStateEvent = (event: StateEventNotice) => {
  const runId = event.executionArn.slice(event.executionArn.lastIndexOf(':') + 1);
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
const stack = await startEmbeddedStack({ dataDir, apiPort: 0, onStateEvent });
// This process's own SDK clients reach the stack's services through the SDK's variables.
Object.assign(process.env, stack.clientEnvironment);
const headers = { authorization: 'Bearer dev-operator', 'content-type': 'application/json' };
const rows: string[][] = [];
const notes: string[] = [];

try {
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
    for (;;) {
      const { run: current } = (await (await fetch(`${stack.endpoints.api}/runs/${runId}`, { headers })).json()) as {
        run: { status: string; finishedAt?: string };
      };
      if (current.finishedAt) {
        if (current.status !== (mode === 'PLAN' ? 'PLANNED' : 'SUCCEEDED')) throw new Error(`bench run ended ${current.status}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
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
  notes.push(`APPLY/PLAN with warm sandbox workers: ${(runs.a / runs.b).toFixed(2)} (target <= ${APPLY_PLAN_TARGET})`);

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
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const header = ['comparison (median per op, interleaved rounds)', 'A', 'B', 'A/B'];
const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ');
console.log(`\n${ROUNDS} rounds, interleaved; lower A/B is better for A.\n`);
console.log(line(header));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const row of rows) console.log(line(row));
console.log('');
for (const note of notes) console.log(note);
