import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunRepository } from '../../functions/adapters/dynamo-run-repository.ts';
import { GENESIS_HASH } from '../../functions/core/runs/journal.ts';
import type { RunStatus } from '../../functions/core/runs/model.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack } from '../support/test-stack.ts';

let stack: EmbeddedStack;
let now = Date.parse('2026-11-20T09:00:00Z');
let runs: DynamoRunRepository;

beforeAll(async () => {
  stack = await startTestStack('slo');
  // The scripted runs are written through the production repository, with a clock the test moves.
  runs = new DynamoRunRepository({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
    tableName: stack.stateTable,
    clock: () => new Date(now),
  });
});
afterAll(async () => {
  await stack?.stop();
});

/** One run whose events happen at the given offsets (ms after `start`). */
async function scriptedRun(id: string, start: string, mode: 'PLAN' | 'APPLY', finalStatus: RunStatus, steps: [number, string, Record<string, unknown>?][]) {
  const t0 = Date.parse(start);
  now = t0;
  const createdAt = new Date(t0).toISOString();
  await runs.create({
    run: {
      id,
      goal: `slo ${id}`,
      mode,
      environment: 'dev',
      status: 'PENDING',
      autonomy: 1,
      requestedBy: 'slo-test',
      correlationId: `slo-${id}`,
      createdAt,
      updatedAt: createdAt,
      taskCount: 0,
      eventSeq: 0,
      lastEventHash: GENESIS_HASH,
    },
    tasks: [],
    events: [{ type: 'RunRequested', message: 'requested' }],
  });
  for (const [offset, type, payload] of steps) {
    now = t0 + offset;
    const final = type.startsWith('Run') && ['RunSucceeded', 'RunRolledBack', 'RunFailed', 'RunPlanOnlyFinished'].includes(type);
    await runs.commit(id, {
      run: final ? { status: finalStatus, finishedAt: new Date(now).toISOString() } : undefined,
      events: [{ type, message: type, payload }],
    });
  }
}

describe('GET /slo', () => {
  it('reports plan latency, apply success rate and mean time to resume computed from a scripted set of runs', async () => {
    await scriptedRun('slo-a', '2026-11-20T10:00:00Z', 'APPLY', 'SUCCEEDED', [
      [100, 'RunAdmitted'],
      [1_100, 'RunPlanned'],
      [1_200, 'RunApplying'],
      [2_000, 'RunSucceeded'],
    ]);
    await scriptedRun('slo-b', '2026-11-20T11:00:00Z', 'APPLY', 'ROLLED_BACK', [
      [0, 'RunAdmitted'],
      [400, 'RunPlanned'],
      [500, 'RunApplying'],
      [900, 'RunRolledBack'],
    ]);
    await scriptedRun('slo-c', '2026-11-21T10:00:00Z', 'APPLY', 'SUCCEEDED', [
      [0, 'RunAdmitted'],
      [2_500, 'RunPlanned'],
      [2_600, 'RunApplying'],
      [12_600, 'ExecutionResumed'],
      [13_000, 'RunSucceeded'],
    ]);
    await scriptedRun('slo-d', '2026-11-22T10:00:00Z', 'PLAN', 'PLANNED', [
      [0, 'RunAdmitted'],
      [700, 'RunPlanned'],
      [800, 'RunPlanOnlyFinished'],
    ]);
    await scriptedRun('slo-e', '2026-11-23T10:00:00Z', 'APPLY', 'SUCCEEDED', [
      [50, 'RunAdmitted'],
      [250, 'RunPlanned'],
      [300, 'RunApplying'],
      [5_300, 'RunResumed', { downtimeMs: 4_000 }],
      [6_000, 'RunSucceeded'],
    ]);

    const { status, body } = await api(stack, 'GET', '/slo');
    expect(status).toBe(200);
    // Plan latencies 1000, 400, 2500, 700, 200 → sorted 200, 400, 700, 1000, 2500.
    expect(body).toEqual({
      runs: 5,
      planLatencyMs: { count: 5, p50: 700, p95: 2500 },
      applySuccessRate: { attempted: 4, succeeded: 3, rate: 0.75 },
      meanTimeToResumeMs: 7000, // (10 000 since c's previous event + e's stated 4 000) / 2
      resumes: 2,
      notes: [],
    });

    const since = await api(stack, 'GET', '/slo?since=2026-11-21');
    expect(since.body).toMatchObject({
      runs: 3,
      since: '2026-11-21T00:00:00.000Z',
      planLatencyMs: { count: 3, p50: 700, p95: 2500 },
      applySuccessRate: { attempted: 2, succeeded: 2, rate: 1 },
    });

    const empty = await api(stack, 'GET', '/slo?since=2026-11-24T00:00:00Z');
    expect(empty.body).toMatchObject({
      runs: 0,
      planLatencyMs: { count: 0, p50: null, p95: null },
      applySuccessRate: { rate: null },
      meanTimeToResumeMs: null,
    });
    expect(empty.body.notes[0]).toMatch(/no ExecutionResumed\/RunResumed events/);

    const bad = await api(stack, 'GET', '/slo?since=last-week');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('since');
    expect((await api(stack, 'GET', '/slo?window=7d')).body.error.field).toBe('window');
  });
});
