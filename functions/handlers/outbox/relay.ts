import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { isOutboxPk, messageOfOutboxItem } from '../../adapters/outbox-items.ts';
import type { OutboxMessage } from '../../core/outbox/model.ts';
import { relayMessages } from '../../core/outbox/relay-messages.ts';
import { logger } from '../shared/logger.ts';
import { outboxDeps } from './deps.ts';

/** The outbox messages of a stream batch: new outbox rows only (TTL deletions and other items are not announcements). */
export function outboxMessagesOf(records: readonly DynamoDBRecord[]): OutboxMessage[] {
  const messages: OutboxMessage[] = [];
  for (const record of records) {
    if (record.eventName !== 'INSERT' || !isOutboxPk(record.dynamodb?.Keys?.pk?.S) || !record.dynamodb?.NewImage) continue;
    messages.push(messageOfOutboxItem(unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>)));
  }
  return messages;
}

/**
 * The outbox relay: DynamoDB Streams → EventBridge (the Lambda's event source in AWS; the local relay
 * loop on DynamoDB Local's stream in the embedded stack). Delivers at least once; what keeps failing
 * becomes a dead letter. If even that cannot be written it throws, and the stream retries the batch.
 */
export async function relayStreamBatch(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const messages = outboxMessagesOf(event.Records ?? []);
  if (messages.length === 0) return { batchItemFailures: [] };
  const result = await relayMessages(outboxDeps(), messages);
  if (result.deadLettered.length > 0) {
    logger.warn('outbox messages dead-lettered', { deadLettered: result.deadLettered });
  }
  return { batchItemFailures: [] };
}

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(relayStreamBatch);
