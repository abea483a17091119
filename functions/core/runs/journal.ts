import { digestOf } from '../canonical-json.ts';
import { EventLevel } from './model.ts';
import type { EventDraft, Run, RunEvent } from './model.ts';

/** The hash a run's chain starts from, before its first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Gives drafts their place in the run's tamper-evident chain: consecutive sequence numbers after
 * the run's head, each event hashing its canonical form together with the previous event's hash.
 */
export function sealEvents(head: Pick<Run, 'id' | 'eventSeq' | 'lastEventHash' | 'correlationId'>, drafts: readonly EventDraft[], now: Date): RunEvent[] {
  let prevHash = head.lastEventHash;
  return drafts.map((draft, offset) => {
    const unsealed: Omit<RunEvent, 'hash'> = {
      runId: head.id,
      seq: head.eventSeq + offset + 1,
      type: draft.type,
      level: draft.level ?? EventLevel.INFO,
      message: draft.message,
      taskIndex: draft.taskIndex,
      payload: draft.payload,
      actor: draft.actor,
      correlationId: head.correlationId,
      ts: now.toISOString(),
      prevHash,
    };
    const hash = hashEvent(unsealed);
    prevHash = hash;
    return { ...unsealed, hash };
  });
}

export function hashEvent(event: Omit<RunEvent, 'hash'>): string {
  return digestOf(event);
}

/** Recomputes the chain; returns the first sequence number whose link does not hold. */
export function verifyChain(events: readonly RunEvent[]): { ok: true } | { ok: false; firstBrokenSeq: number } {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (const event of events) {
    const { hash, ...rest } = event;
    if (event.seq !== expectedSeq || event.prevHash !== prevHash || hashEvent(rest) !== hash) {
      return { ok: false, firstBrokenSeq: expectedSeq };
    }
    prevHash = hash;
    expectedSeq += 1;
  }
  return { ok: true };
}
