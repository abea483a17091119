import type { RunEvent } from '../runs/model.ts';
import type { RunRepository } from '../runs/ports.ts';

/** Every event of a run, in `seq` order, one page at a time. */
export async function* runEvents(runs: Pick<RunRepository, 'listEvents'>, runId: string, afterSeq = 0): AsyncGenerator<RunEvent> {
  let cursor: number | undefined = afterSeq;
  while (cursor !== undefined) {
    const page = await runs.listEvents(runId, { afterSeq: cursor, limit: 1000 });
    yield* page.items;
    cursor = page.nextCursor === undefined ? undefined : Number(page.nextCursor);
  }
}

export async function allRunEvents(runs: Pick<RunRepository, 'listEvents'>, runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of runEvents(runs, runId)) events.push(event);
  return events;
}
