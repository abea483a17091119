import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { outboxMessagesOf } from '../../adapters/outbox-items.ts';
import { relayMessages } from '../../core/outbox/relay-messages.ts';
import { logger } from '../shared/logger.ts';
import type { OutboxDeps } from '../../core/outbox/ports.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { config, outbox } from '../shared/ports.ts';

/**
 * The outbox relay: DynamoDB Streams → EventBridge (the Lambda's event source in AWS; the local relay
 * loop on DynamoDB Local's stream in the embedded stack). Delivers at least once; what keeps failing
 * becomes a dead letter. If even that cannot be written it throws, and the stream retries the batch.
 */
export async function relayStreamBatch(deps: OutboxDeps, event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { messages, unreadable } = outboxMessagesOf(event.Records ?? []);
  if (unreadable.length > 0) logger.error('unreadable outbox rows', { sequenceNumbers: unreadable });
  if (messages.length > 0) {
    const result = await relayMessages(deps, messages);
    if (result.deadLettered.length > 0) logger.warn('outbox messages dead-lettered', { deadLettered: result.deadLettered });
    // Then each matching subscription, with the same retries and dead letters of its own.
    await deps.subscribers?.deliver(messages);
  }
  // Unreadable rows go back to the event source (its retries, then its on-failure queue).
  return { batchItemFailures: unreadable.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const createHandler = (deps: HandlerDeps) =>
  middy<DynamoDBStreamEvent, DynamoDBBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event) => relayStreamBatch(deps.outbox, event));

export const handler = lambdaHandler(createHandler, 'functions/handlers/outbox/relay.ts', { config, outbox });
