import { canonicalJson } from '../canonical-json.ts';
import type { OutboxMessage, PublishResult } from '../outbox/model.ts';
import type { EventPublisher } from '../outbox/ports.ts';
import { relayMessages } from '../outbox/relay-messages.ts';
import type { RelayResult } from '../outbox/relay-messages.ts';
import { SubscriptionKind } from './model.ts';
import type { Subscription } from './model.ts';
import type { SubscriptionDeps } from './ports.ts';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, SUBSCRIPTION_HEADER, signatureOf } from './signature.ts';

/** The body a subscription receives for a message: the message itself (URL), or a Slack message that carries its id. */
export function deliveryBody(subscription: Subscription, message: OutboxMessage): string {
  if (subscription.kind === SubscriptionKind.slack) {
    return canonicalJson({ text: `[${message.type}] ${message.message}`, maestro: { id: message.id, type: message.type, runId: message.runId } });
  }
  return JSON.stringify(message);
}

/** The signed request of one delivery. */
export function deliveryRequest(subscription: Subscription, message: OutboxMessage): { body: string; headers: Record<string, string> } {
  const body = deliveryBody(subscription, message);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      [EVENT_ID_HEADER]: message.id,
      [EVENT_TYPE_HEADER]: message.type,
      [SUBSCRIPTION_HEADER]: subscription.id,
      [SIGNATURE_HEADER]: signatureOf(subscription.secret, body),
    },
  };
}

const matches = (subscription: Subscription, message: OutboxMessage, environment: string | undefined) =>
  (subscription.eventTypes.includes('*') || subscription.eventTypes.includes(message.type)) &&
  (subscription.environments.length === 0 || (environment !== undefined && subscription.environments.includes(environment)));

/**
 * Delivers a batch of outbox messages to every subscription they match (type, environment), with the
 * relay's own retries (transient failures, with backoff) and dead letters (one store per subscription).
 * At least once: a receiver dedupes on the message id. Throws only when a dead letter cannot be written.
 */
export async function deliverToSubscriptions(deps: SubscriptionDeps, messages: readonly OutboxMessage[]): Promise<Map<string, RelayResult>> {
  const results = new Map<string, RelayResult>();
  if (messages.length === 0) return results;
  const subscriptions = await deps.subscriptions.list();
  if (subscriptions.length === 0) return results;
  const environments = new Map<string, string | undefined>();
  const environmentOf = async (message: OutboxMessage) => {
    if (message.environment) return message.environment;
    if (!environments.has(message.runId)) environments.set(message.runId, await deps.environmentOf(message.runId));
    return environments.get(message.runId);
  };
  const needsEnvironment = subscriptions.some((subscription) => subscription.environments.length > 0);
  const located = await Promise.all(messages.map(async (message) => ({ message, environment: needsEnvironment ? await environmentOf(message) : undefined })));

  for (const subscription of subscriptions) {
    const matching = located.filter(({ message, environment }) => matches(subscription, message, environment)).map(({ message }) => message);
    if (matching.length === 0) continue;
    const publisher: EventPublisher = {
      publish: (batch) => Promise.all(batch.map((message): Promise<PublishResult> => deps.sender.send(subscription, deliveryRequest(subscription, message)))),
    };
    results.set(
      subscription.id,
      await relayMessages({ publisher, deadLetters: deps.deadLettersFor(subscription.id), clock: deps.clock, sleep: deps.sleep }, matching),
    );
  }
  return results;
}
