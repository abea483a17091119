import type { Run, RunEvent } from '../runs/model.ts';
import type { RunRepository } from '../runs/ports.ts';
import { redactWithFlag } from '../telemetry/redaction.ts';
import { runEvents } from './read-run-events.ts';

/**
 * One line of the exported trail: the event as stored, hashes included so a SIEM can re-verify the
 * chain; `redacted: true` marks a line whose payload lost a secret to the export rules (its hash then
 * no longer recomputes from the line, by design).
 */
export type TrailRecord = RunEvent & { redacted?: true };

/** Every run, oldest first, paging through the run list. */
export async function allRuns(runs: Pick<RunRepository, 'listRuns'>): Promise<Run[]> {
  const found: Run[] = [];
  let cursor: string | undefined;
  do {
    const page = await runs.listRuns({ limit: 100, cursor });
    found.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/**
 * The audit trail since an instant, run by run (oldest run first) and `seq` by `seq`, with the
 * export redaction rules applied to payloads. A run last touched before `since` is skipped without
 * reading its events.
 */
export async function* exportTrail(runs: Pick<RunRepository, 'listRuns' | 'listEvents'>, options: { since?: Date } = {}): AsyncGenerator<TrailRecord> {
  const since = options.since?.toISOString();
  for (const run of await allRuns(runs)) {
    if (since && run.updatedAt < since) continue;
    for await (const event of runEvents(runs, run.id)) {
      if (since && event.ts < since) continue;
      const line = inStableOrder(event);
      if (!line.payload) {
        yield line;
        continue;
      }
      const { value, redacted } = redactWithFlag(line.payload, 'export');
      yield redacted ? { ...line, payload: value, redacted: true } : line;
    }
  }
}

/**
 * The event with its identifying fields first, so that lines read alike (DynamoDB returns attributes
 * in any order); every field is kept, so the line's hash still recomputes.
 */
function inStableOrder(event: RunEvent): RunEvent {
  const { runId, seq, ts, type, level, message, ...rest } = event;
  return { runId, seq, ts, type, level, message, ...rest };
}
