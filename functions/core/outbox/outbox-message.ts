import { canonicalJson } from '../canonical-json.ts';
import type { RunEvent } from '../runs/model.ts';
import { MAX_OUTBOX_PAYLOAD_BYTES } from './model.ts';
import type { OutboxMessage } from './model.ts';

/** The id consumers dedupe on: a run event's place in its run's journal. */
export const outboxMessageId = (runId: string, seq: number) => `${runId}#${seq}`;

/** What the outbox announces for a sealed run event: its identity, type and summary, and a small payload. */
export function outboxMessageOf(event: RunEvent): OutboxMessage {
  const payloadBytes = event.payload === undefined ? 0 : Buffer.byteLength(canonicalJson(event.payload));
  const fits = payloadBytes <= MAX_OUTBOX_PAYLOAD_BYTES;
  return {
    id: outboxMessageId(event.runId, event.seq),
    runId: event.runId,
    seq: event.seq,
    type: event.type,
    level: event.level,
    correlationId: event.correlationId,
    ts: event.ts,
    ...(event.taskIndex === undefined ? {} : { taskIndex: event.taskIndex }),
    message: event.message,
    ...(event.payload === undefined ? {} : fits ? { payload: event.payload } : { payloadOmitted: true }),
  };
}
