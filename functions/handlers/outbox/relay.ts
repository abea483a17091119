import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { isOutboxPk, messageOfOutboxItem } from '../../adapters/outbox-items.ts';
import type { OutboxMessage } from '../../core/outbox/model.ts';
import { relayMessages } from '../../core/outbox/relay-messages.ts';
import { logger } from '../shared/logger.ts';
import type { OutboxDeps } from '../../core/outbox/ports.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';

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
    } catch (error) {
      logger.error('unreadable outbox row', { sequenceNumber: record.dynamodb.SequenceNumber, error: error as Error });
      unreadable.push(record.dynamodb.SequenceNumber ?? '');
    }
  }
  return { messages, unreadable };
}

/**
 * The outbox relay: DynamoDB Streams → EventBridge (the Lambda's event source in AWS; the local relay
 * loop on DynamoDB Local's stream in the embedded stack). Delivers at least once; what keeps failing
 * becomes a dead letter. If even that cannot be written it throws, and the stream retries the batch.
 */
export async function relayStreamBatch(deps: OutboxDeps, event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { messages, unreadable } = outboxMessagesOf(event.Records ?? []);
  if (messages.length > 0) {
    const result = await relayMessages(deps, messages);
    if (result.deadLettered.length > 0) logger.warn('outbox messages dead-lettered', { deadLettered: result.deadLettered });
  }
  // Unreadable rows go back to the event source (its retries, then its on-failure queue).
  return { batchItemFailures: unreadable.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const createHandler = (deps: HandlerDeps) =>
  middy<DynamoDBStreamEvent, DynamoDBBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event) => relayStreamBatch(deps.outbox, event));

export const handler = lambdaHandler(createHandler);
