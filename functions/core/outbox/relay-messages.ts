import { ErrorCategory } from '../errors.ts';
import type { DeadLetter, DeliveryFailure, OutboxMessage } from './model.ts';
import type { OutboxDeps } from './ports.ts';

/** Attempts per message before it is dead-lettered; only transient failures are retried. */
export const RELAY_MAX_ATTEMPTS = 3;
const BACKOFF_MS = 50;

export interface RelayResult {
  delivered: string[];
  deadLettered: { id: string; error: DeliveryFailure }[];
}

/**
 * Delivers outbox messages at least once: publishes them, retries transient failures with backoff,
 * and records what still fails as a dead letter with its error category. Throws only if a dead
 * letter cannot be written, so that the stream hands the batch over again (nothing is dropped).
 */
export async function relayMessages(deps: OutboxDeps, messages: readonly OutboxMessage[], maxAttempts = RELAY_MAX_ATTEMPTS): Promise<RelayResult> {
  const delivered: string[] = [];
  const failed = new Map<string, { message: OutboxMessage; error: DeliveryFailure; attempts: number }>();
  let pending = [...messages];
  for (let attempt = 1; pending.length > 0 && attempt <= maxAttempts; attempt += 1) {
    if (attempt > 1) await deps.sleep(BACKOFF_MS * 2 ** (attempt - 2) * (0.5 + Math.random()));
    const results = await deps.publisher.publish(pending);
    const retry: OutboxMessage[] = [];
    pending.forEach((message, index) => {
      const result = results[index];
      if (result?.ok) {
        delivered.push(message.id);
        failed.delete(message.id);
        return;
      }
      const error = result?.error ?? { name: 'MissingResult', message: 'the publisher returned no result for this message', category: ErrorCategory.internal };
      failed.set(message.id, { message, error, attempts: attempt });
      if (error.category === ErrorCategory.transient) retry.push(message);
    });
    pending = retry;
  }

  const now = deps.clock().toISOString();
  const deadLettered: RelayResult['deadLettered'] = [];
  for (const { message, error, attempts } of failed.values()) {
    const earlier = await deps.deadLetters.get(message.id);
    const letter: DeadLetter = {
      id: message.id,
      message,
      error,
      attempts: (earlier?.attempts ?? 0) + attempts,
      firstFailedAt: earlier?.firstFailedAt ?? now,
      lastFailedAt: now,
      redrives: earlier?.redrives ?? 0,
    };
    await deps.deadLetters.put(letter);
    deadLettered.push({ id: message.id, error });
  }
  return { delivered, deadLettered };
}
