import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MAX_OUTBOX_ROW_CHARS, outboxItemsOf, outboxMessagesOf } from '../../functions/adapters/outbox-items.ts';
import type { RunEvent } from '../../functions/core/runs/model.ts';

const now = new Date('2026-12-03T12:00:00Z');
const event = (seq: number, payload?: Record<string, unknown>): RunEvent => ({
  runId: 'run-1',
  seq,
  type: seq === 1 ? 'TaskApplied' : 'RunSucceeded',
  level: 'INFO',
  message: `event ${seq}`,
  correlationId: 'c-1',
  ts: now.toISOString(),
  prevHash: 'p',
  hash: `h${seq}`,
  ...(payload ? { payload } : {}),
});
const inserted = (item: Record<string, unknown>, eventName: DynamoDBRecord['eventName'] = 'INSERT'): DynamoDBRecord => ({
  eventName,
  dynamodb: { Keys: marshall({ pk: item.pk, sk: item.sk }) as never, NewImage: marshall(item, { removeUndefinedValues: true }) as never, SequenceNumber: '1' },
});

describe('outbox rows', () => {
  it("holds a commit's events in one row, in order, keyed by the first event's seq", () => {
    const rows = outboxItemsOf([event(7), event(8), event(9)], now);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ pk: 'OUTBOX#run-1', sk: '0000000007', entity: 'Outbox' });
    expect((rows[0].messages as { id: string }[]).map((message) => message.id)).toEqual(['run-1#7', 'run-1#8', 'run-1#9']);
    expect(outboxItemsOf([], now)).toEqual([]);
  });

  it('splits a commit with many large payloads into rows that each stay under the item limit, losing none', () => {
    const big = { blob: 'x'.repeat(4000) };
    const events = Array.from({ length: 90 }, (_, i) => event(i + 1, big));
    const rows = outboxItemsOf(events, now);
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) expect(JSON.stringify(row.messages).length).toBeLessThanOrEqual(MAX_OUTBOX_ROW_CHARS + 2);
    const ids = rows.flatMap((row) => (row.messages as { id: string }[]).map((message) => message.id));
    expect(ids).toEqual(events.map((e) => `run-1#${e.seq}`));
    expect(rows.map((row) => row.sk)).toEqual(rows.map((row) => String((row.messages as { seq: number }[])[0].seq).padStart(10, '0')));
  });

  it("are read back from the stream as their messages: a commit's row as each of its events, a single-message row as one", () => {
    const [commitRow] = outboxItemsOf([event(1), event(2)], now);
    const single = {
      pk: 'OUTBOX#finding-1',
      sk: '0000000001',
      entity: 'Outbox',
      id: 'finding-1#1',
      runId: 'finding-1',
      seq: 1,
      type: 'DriftDetected',
      level: 'WARN',
      message: 'drift',
      correlationId: 'c',
      ts: now.toISOString(),
      expiresAt: 1,
    };
    const { messages, unreadable } = outboxMessagesOf([
      inserted(commitRow),
      inserted(single),
      inserted({ pk: 'RUN#run-1', sk: 'EVENT#0000000001', entity: 'Event' }),
      inserted(commitRow, 'REMOVE'),
    ]);
    expect(unreadable).toEqual([]);
    expect(messages.map((message) => message.id)).toEqual(['run-1#1', 'run-1#2', 'finding-1#1']);
    expect(messages[0]).toMatchObject({ type: 'TaskApplied', message: 'event 1', runId: 'run-1', seq: 1 });
  });
});
