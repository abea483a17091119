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

/** The outbox row announcing a sealed event; written in the same transaction as the event. */
export function outboxItem(event: RunEvent, now: Date): Record<string, unknown> {
  return {
    ...outboxKey(event.runId, event.seq),
    entity: 'Outbox',
    ...outboxMessageOf(event),
    expiresAt: Math.floor(now.getTime() / 1000) + OUTBOX_TTL_SECONDS,
  };
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
      messages.push(messageOfOutboxItem(unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>)));
    } catch {
      // The handler logs these by sequence number; the rest of the batch is still relayed.
      unreadable.push(record.dynamodb.SequenceNumber ?? '');
    }
  }
  return { messages, unreadable };
}
