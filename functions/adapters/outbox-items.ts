import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { outboxMessageOf } from '../core/outbox/outbox-message.ts';
import type { OutboxMessage } from '../core/outbox/model.ts';
import type { RunEvent } from '../core/runs/model.ts';

/** Outbox rows: `pk = OUTBOX#<runId>`, `sk = <seq>` (zero-padded); the relay reads only their INSERTs. */
export const OUTBOX_PK_PREFIX = 'OUTBOX#';
/** How long an outbox row stays after it was written (TTL clean-up; the relay reads it from the stream at once). */
export const OUTBOX_TTL_SECONDS = 7 * 24 * 60 * 60;

export const outboxKey = (runId: string, seq: number) => ({ pk: `${OUTBOX_PK_PREFIX}${runId}`, sk: String(seq).padStart(10, '0') });

/**
 * A row's messages at most this many characters of JSON: far under DynamoDB's 400 KB item limit (a
 * message's payload is at most 4 KiB), so a commit with many events takes a few rows, not one each.
 */
export const MAX_OUTBOX_ROW_CHARS = 256 * 1024;

/**
 * The outbox rows announcing a commit's sealed events, written in the same transaction: their messages
 * in order, as few rows as fit (one for a step's usual handful), each keyed by its first event's seq.
 * One row per event doubled the items a commit writes (DynamoDB Local's cost per run is mostly items).
 */
export function outboxItemsOf(events: readonly RunEvent[], now: Date): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  let messages: OutboxMessage[] = [];
  let chars = 0;
  const flush = () => {
    if (messages.length === 0) return;
    rows.push({
      ...outboxKey(messages[0].runId, messages[0].seq),
      entity: 'Outbox',
      messages,
      expiresAt: Math.floor(now.getTime() / 1000) + OUTBOX_TTL_SECONDS,
    });
    messages = [];
    chars = 0;
  };
  for (const event of events) {
    const message = outboxMessageOf(event);
    const size = JSON.stringify(message).length;
    if (chars + size > MAX_OUTBOX_ROW_CHARS) flush();
    messages.push(message);
    chars += size;
  }
  flush();
  return rows;
}

/** The message an outbox row carries (the row minus its storage attributes). */
export function messageOfOutboxItem(item: Record<string, unknown>): OutboxMessage {
  const { pk: _pk, sk: _sk, entity: _entity, expiresAt: _expiresAt, ...message } = item;
  return message as unknown as OutboxMessage;
}

export const isOutboxPk = (pk: unknown) => typeof pk === 'string' && pk.startsWith(OUTBOX_PK_PREFIX);

/**
 * The outbox messages of a stream batch: new outbox rows only (TTL deletions and other items are not
 * announcements), and the sequence numbers of outbox rows that could not be read.
 */
export function outboxMessagesOf(records: readonly DynamoDBRecord[]): { messages: OutboxMessage[]; unreadable: string[] } {
  const messages: OutboxMessage[] = [];
  const unreadable: string[] = [];
  for (const record of records) {
    if (record.eventName !== 'INSERT' || !isOutboxPk(record.dynamodb?.Keys?.pk?.S) || !record.dynamodb?.NewImage) continue;
    try {
      const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
      // A commit's row holds its events' messages; a drift finding's (and an older run row) holds one.
      if (Array.isArray(item.messages)) messages.push(...(item.messages as OutboxMessage[]));
      else messages.push(messageOfOutboxItem(item));
    } catch {
      // The handler logs these by sequence number; the rest of the batch is still relayed.
      unreadable.push(record.dynamodb.SequenceNumber ?? '');
    }
  }
  return { messages, unreadable };
}
