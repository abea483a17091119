import type { RunRepository } from '../runs/ports.ts';
import { allRuns } from './export-trail.ts';
import { allRunEvents } from './read-run-events.ts';
import { computeSlo } from './slo.ts';
import type { RunWithEvents, SloReport } from './slo.ts';

/** Reads the runs (created since `since`, when given) and their events, then computes the SLOs. */
export async function loadSlo(runs: Pick<RunRepository, 'listRuns' | 'listEvents'>, options: { since?: Date } = {}): Promise<SloReport> {
  const since = options.since?.toISOString();
  const selected = (await allRuns(runs)).filter((run) => !since || run.createdAt >= since);
  const withEvents: RunWithEvents[] = [];
  for (const run of selected) withEvents.push({ run, events: await allRunEvents(runs, run.id) });
  return computeSlo(withEvents, options);
}
