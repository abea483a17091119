import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { DynamoDeadLetterStore } from '../../adapters/dynamo-dead-letter-store.ts';
import { EventBridgePublisher } from '../../adapters/event-bridge-publisher.ts';
import type { OutboxDeps } from '../../core/outbox/ports.ts';

const OutboxEnvironment = z.object({
  MAESTRO_STATE_TABLE: z.string().min(3, 'must name the state table'),
  /** The bus outbox messages go to. */
  MAESTRO_EVENT_BUS_NAME: z.string().min(1).max(256).default('default'),
});

export interface OutboxConfig {
  stateTable: string;
  eventBusName: string;
}

/** Reads the outbox's environment once, failing loudly with the name of the bad key. */
export function loadOutboxConfig(env: NodeJS.ProcessEnv = process.env): OutboxConfig {
  const parsed = OutboxEnvironment.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid outbox configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  return { stateTable: parsed.data.MAESTRO_STATE_TABLE, eventBusName: parsed.data.MAESTRO_EVENT_BUS_NAME };
}

/** The composition root of the relay and the dead-letter API: real SDK clients, endpoints from AWS_ENDPOINT_URL_*. */
export function createOutboxDeps(config: OutboxConfig = loadOutboxConfig()): OutboxDeps {
  const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return {
    publisher: new EventBridgePublisher({ client: new EventBridgeClient({}), eventBusName: config.eventBusName }),
    deadLetters: new DynamoDeadLetterStore({ client: dynamodb, tableName: config.stateTable }),
    clock: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

let shared: { key: string; deps: OutboxDeps } | undefined;

/**
 * One set per process (per Lambda container), rebuilt when the configuration or endpoints change
 * (the embedded stack restarted in the same process).
 */
export function outboxDeps(): OutboxDeps {
  const key = JSON.stringify([process.env.MAESTRO_STATE_TABLE, process.env.MAESTRO_EVENT_BUS_NAME, process.env.AWS_ENDPOINT_URL_DYNAMODB, process.env.AWS_ENDPOINT_URL_EVENTBRIDGE]);
  if (shared?.key !== key) shared = { key, deps: createOutboxDeps() };
  return shared.deps;
}
