import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from '../../functions/core/canonical-json.ts';
import { GENESIS_HASH, sealEvents, verifyChain } from '../../functions/core/runs/journal.ts';

const head = { id: 'run-1', eventSeq: 0, lastEventHash: GENESIS_HASH, correlationId: 'corr-1' };
const at = new Date('2026-11-25T10:00:00Z');

describe('canonicalJson', () => {
  it('serializes equal values to equal bytes whatever the key order, dropping undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(digestOf({ x: 1, y: 2 })).toBe(digestOf({ y: 2, x: 1 }));
    expect(digestOf({ x: 1 })).not.toBe(digestOf({ x: 2 }));
  });
});

describe('the run journal', () => {
  it('numbers events after the head and links each to the previous hash', () => {
    const events = sealEvents(
      head,
      [
        { type: 'A', message: 'a' },
        { type: 'B', message: 'b' },
      ],
      at,
    );
    expect(events.map((event) => event.seq)).toEqual([1, 2]);
    expect(events[0].prevHash).toBe(GENESIS_HASH);
    expect(events[1].prevHash).toBe(events[0].hash);
    expect(events[0].correlationId).toBe('corr-1');
    const more = sealEvents({ ...head, eventSeq: 2, lastEventHash: events[1].hash }, [{ type: 'C', message: 'c' }], at);
    expect(more[0].seq).toBe(3);
    expect(verifyChain([...events, ...more])).toEqual({ ok: true });
  });

  it('names the first broken link when an event is altered, removed or reordered', () => {
    const events = sealEvents(
      head,
      ['A', 'B', 'C', 'D'].map((type) => ({ type, message: type })),
      at,
    );
    expect(verifyChain(events.map((event) => (event.seq === 3 ? { ...event, message: 'rewritten' } : event)))).toEqual({ ok: false, firstBrokenSeq: 3 });
    expect(verifyChain(events.filter((event) => event.seq !== 2))).toEqual({ ok: false, firstBrokenSeq: 2 });
    expect(verifyChain([events[1], events[0], events[2], events[3]])).toEqual({ ok: false, firstBrokenSeq: 1 });
  });
});
