import { describe, expect, it } from 'vitest';
import { computeSlo, percentile } from '../../../functions/core/audit/slo.ts';
import type { RunWithEvents } from '../../../functions/core/audit/slo.ts';
import { GENESIS_HASH, sealEvents } from '../../../functions/core/runs/journal.ts';
import type { Run, RunStatus } from '../../../functions/core/runs/model.ts';

const T0 = Date.parse('2026-11-25T10:00:00Z');

/** A run and its events at scripted offsets (ms after T0). */
function scripted(id: string, mode: 'PLAN' | 'APPLY', status: RunStatus, steps: [number, string, Record<string, unknown>?][], finished = true): RunWithEvents {
  const run: Run = {
    id,
    goal: id,
    mode,
    environment: 'dev',
    status,
    autonomy: 1,
    requestedBy: 'test',
    correlationId: `c-${id}`,
    createdAt: new Date(T0 + steps[0][0]).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    finishedAt: finished ? new Date(T0 + steps.at(-1)![0]).toISOString() : undefined,
    taskCount: 1,
    eventSeq: 0,
    lastEventHash: GENESIS_HASH,
  };
  let head = { id, eventSeq: 0, lastEventHash: GENESIS_HASH, correlationId: run.correlationId };
  const events = steps.flatMap(([offset, type, payload]) => {
    const [event] = sealEvents(head, [{ type, message: type, payload }], new Date(T0 + offset));
    head = { ...head, eventSeq: event.seq, lastEventHash: event.hash };
    return [event];
  });
  return { run: { ...run, eventSeq: head.eventSeq, lastEventHash: head.lastEventHash }, events };
}

describe('percentile (nearest rank)', () => {
  it('picks the smallest value with at least p% of the values at or below it', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(19);
  });
});

describe('computeSlo', () => {
  const runs = [
    scripted('a', 'APPLY', 'SUCCEEDED', [
      [0, 'RunRequested'],
      [100, 'RunAdmitted'],
      [400, 'RunPlanned'],
      [500, 'RunApplying'],
      [900, 'RunSucceeded'],
    ]),
    scripted('b', 'APPLY', 'ROLLED_BACK', [
      [1000, 'RunRequested'],
      [1000, 'RunAdmitted'],
      [1100, 'RunPlanned'],
      [1200, 'RunApplying'],
      [1300, 'RunRolledBack'],
    ]),
    scripted('c', 'APPLY', 'SUCCEEDED', [
      [2000, 'RunRequested'],
      [2050, 'RunAdmitted'],
      [2250, 'RunPlanned'],
      [2300, 'RunApplying'],
      [5300, 'ExecutionResumed'],
      [5400, 'RunSucceeded'],
    ]),
    scripted('d', 'PLAN', 'PLANNED', [
      [3000, 'RunRequested'],
      [3000, 'RunAdmitted'],
      [3900, 'RunPlanned'],
      [3950, 'RunPlanOnlyFinished'],
    ]),
    // Denied before applying: not an apply attempt. Still running: not counted either.
    scripted('e', 'APPLY', 'DENIED', [
      [4000, 'RunRequested'],
      [4010, 'RunAdmitted'],
      [4060, 'RunPlanned'],
      [4100, 'RunDenied'],
    ]),
    scripted(
      'f',
      'APPLY',
      'APPLYING',
      [
        [6000, 'RunRequested'],
        [6000, 'RunAdmitted'],
        [6500, 'RunPlanned'],
        [6600, 'RunApplying'],
        [7000, 'RunResumed', { downtimeMs: 2500 }],
      ],
      false,
    ),
  ];

  it('computes plan latency percentiles, apply success rate and mean time to resume from the events alone', () => {
    const report = computeSlo(runs);
    // Plan latencies: 300, 100, 200, 900, 50, 500 → sorted 50, 100, 200, 300, 500, 900.
    expect(report.planLatencyMs).toEqual({ count: 6, p50: 200, p95: 900 });
    // Finished APPLY runs that started applying: a (SUCCEEDED), b (ROLLED_BACK), c (SUCCEEDED).
    expect(report.applySuccessRate).toEqual({ attempted: 3, succeeded: 2, rate: 2 / 3 });
    // Resumes: c waited 3000 ms after its previous event; f states a downtime of 2500 ms.
    expect(report.meanTimeToResumeMs).toBe(2750);
    expect(report.resumes).toBe(2);
    expect(report.runs).toBe(6);
    expect(report.notes).toEqual([]);
  });

  it('limits the window to runs created since an instant, and says why a figure is null', () => {
    const report = computeSlo(runs, { since: new Date(T0 + 3000) });
    expect(report.runs).toBe(3);
    expect(report.since).toBe('2026-11-25T10:00:03.000Z');
    expect(report.planLatencyMs).toEqual({ count: 3, p50: 500, p95: 900 });
    expect(report.applySuccessRate).toEqual({ attempted: 0, succeeded: 0, rate: null });
    expect(report.meanTimeToResumeMs).toBe(2500);

    const empty = computeSlo([]);
    expect(empty).toMatchObject({ runs: 0, planLatencyMs: { count: 0, p50: null, p95: null }, meanTimeToResumeMs: null, resumes: 0 });
    expect(empty.notes[0]).toMatch(/meanTimeToResumeMs is null: no ExecutionResumed/);
  });
});
