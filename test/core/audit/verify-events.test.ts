import { describe, expect, it } from 'vitest';
import { verifyEvents } from '../../../functions/core/audit/verify-run-audit.ts';
import { GENESIS_HASH, hashEvent, sealEvents } from '../../../functions/core/runs/journal.ts';
import type { RunEvent } from '../../../functions/core/runs/model.ts';

const events = sealEvents(
  { id: 'r', eventSeq: 0, lastEventHash: GENESIS_HASH, correlationId: 'c' },
  ['A', 'B', 'C', 'D'].map((type) => ({ type, message: type })),
  new Date('2026-11-25T10:00:00Z'),
);
const head = { eventSeq: 4, lastEventHash: events[3].hash };

/** Rewrites one event and re-hashes it and every later one, as someone covering their tracks would. */
function rewrite(from: readonly RunEvent[], seq: number, message: string): RunEvent[] {
  let prevHash = GENESIS_HASH;
  return from.map((event) => {
    const { hash: _old, ...rest } = { ...event, message: event.seq === seq ? message : event.message, prevHash };
    const hash = hashEvent(rest);
    prevHash = hash;
    return { ...rest, hash };
  });
}

describe('verifyEvents', () => {
  it('accepts an intact chain whose last event is the run record’s head', () => {
    expect(verifyEvents(events, head)).toEqual({ ok: true, eventCount: 4, headHash: events[3].hash });
    expect(verifyEvents([], { eventSeq: 0, lastEventHash: GENESIS_HASH })).toEqual({ ok: true, eventCount: 0, headHash: GENESIS_HASH });
  });

  it('names the altered event', () => {
    const altered = events.map((event) => (event.seq === 2 ? { ...event, message: 'nothing happened' } : event));
    expect(verifyEvents(altered, head)).toMatchObject({ ok: false, firstBrokenSeq: 2 });
  });

  it('catches a removed last event and a re-hashed tail against the run record', () => {
    expect(verifyEvents(events.slice(0, 3), head)).toMatchObject({ ok: false, firstBrokenSeq: 4, eventCount: 3 });
    expect(verifyEvents(rewrite(events, 3, 'rewritten'), head)).toMatchObject({ ok: false, firstBrokenSeq: 4 });
    // …but not a rewrite that also updates the run record: that takes the signed head (see the e2e test).
    const rewritten = rewrite(events, 3, 'rewritten');
    expect(verifyEvents(rewritten, { eventSeq: 4, lastEventHash: rewritten[3].hash }).ok).toBe(true);
  });
});
