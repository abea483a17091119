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

const dataDir = mkdtempSync(join(tmpdir(), 'maestro-bench-'));
const stack = await startEmbeddedStack({ dataDir, apiPort: 0 });
// This process's own SDK clients reach the stack's services through the SDK's variables.
Object.assign(process.env, stack.clientEnvironment);
const headers = { authorization: 'Bearer dev-operator', 'content-type': 'application/json' };
const rows: string[][] = [];

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
  const runs = await sideBySide(
    () => runOnce('APPLY'),
    () => runOnce('PLAN'),
    2,
  );
  rows.push(['run, APPLY (one S3 write) vs PLAN only, HTTP to finished', fmt(runs.a), fmt(runs.b), (runs.a / runs.b).toFixed(2)]);

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
