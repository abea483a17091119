import { isFinished, RunMode, RunStatus } from '../runs/model.ts';
import type { Run, RunEvent } from '../runs/model.ts';

/** Event types that mark a workflow carried on after a crash or restart. */
export const RESUME_EVENT_TYPES: ReadonlySet<string> = new Set(['ExecutionResumed', 'RunResumed']);

export interface SloReport {
  /** Runs considered (created at or after `since`, when given). */
  runs: number;
  since?: string;
  /** RunAdmitted → RunPlanned, per run that has both; nearest-rank percentiles. */
  planLatencyMs: { count: number; p50: number | null; p95: number | null };
  /** Finished APPLY runs that started applying: how many ended SUCCEEDED. */
  applySuccessRate: { attempted: number; succeeded: number; rate: number | null };
  /** Mean of (resume event − the run's previous event), or the resume event's `downtimeMs`. */
  meanTimeToResumeMs: number | null;
  resumes: number;
  notes: string[];
}

export interface RunWithEvents {
  run: Run;
  events: readonly RunEvent[];
}

/** Nearest-rank percentile of sorted values: the smallest value with at least p% of values at or below it. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

const ms = (ts: string) => Date.parse(ts);

/** The service levels, computed from the runs' audit events alone. */
export function computeSlo(runs: readonly RunWithEvents[], options: { since?: Date } = {}): SloReport {
  const since = options.since?.toISOString();
  const considered = since ? runs.filter(({ run }) => run.createdAt >= since) : runs;

  const planLatencies: number[] = [];
  let attempted = 0;
  let succeeded = 0;
  const resumeGaps: number[] = [];

  for (const { run, events } of considered) {
    const admitted = events.find((event) => event.type === 'RunAdmitted');
    const planned = events.find((event) => event.type === 'RunPlanned');
    if (admitted && planned) planLatencies.push(ms(planned.ts) - ms(admitted.ts));

    if (run.mode === RunMode.APPLY && isFinished(run) && events.some((event) => event.type === 'RunApplying')) {
      attempted += 1;
      if (run.status === RunStatus.SUCCEEDED) succeeded += 1;
    }

    events.forEach((event, i) => {
      if (!RESUME_EVENT_TYPES.has(event.type)) return;
      const stated = event.payload?.downtimeMs;
      if (typeof stated === 'number' && Number.isFinite(stated)) resumeGaps.push(stated);
      else if (i > 0) resumeGaps.push(ms(event.ts) - ms(events[i - 1].ts));
    });
  }

  planLatencies.sort((a, b) => a - b);
  const notes: string[] = [];
  if (resumeGaps.length === 0) {
    notes.push('meanTimeToResumeMs is null: no ExecutionResumed/RunResumed events in the trail (no run was carried on after a crash in this window)');
  }
  return {
    runs: considered.length,
    ...(since ? { since } : {}),
    planLatencyMs: { count: planLatencies.length, p50: percentile(planLatencies, 50), p95: percentile(planLatencies, 95) },
    applySuccessRate: { attempted, succeeded, rate: attempted === 0 ? null : succeeded / attempted },
    meanTimeToResumeMs: resumeGaps.length === 0 ? null : resumeGaps.reduce((sum, gap) => sum + gap, 0) / resumeGaps.length,
    resumes: resumeGaps.length,
    notes,
  };
}
