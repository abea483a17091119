import type { Page } from '../runs/ports.ts';
import type { DeadLetter, OutboxMessage, PublishResult } from './model.ts';

/** Where outbox messages go (EventBridge in AWS and, through the local endpoint, in the embedded stack). */
export interface EventPublisher {
  /** One result per message, in order; never throws for a failed delivery, only reports it. */
  publish(messages: readonly OutboxMessage[]): Promise<PublishResult[]>;
}

/** Messages whose delivery failed for good, until they are re-driven. */
export interface DeadLetterStore {
  put(letter: DeadLetter): Promise<void>;
  get(id: string): Promise<DeadLetter | undefined>;
  list(options?: { limit?: number; cursor?: string }): Promise<Page<DeadLetter>>;
  remove(id: string): Promise<void>;
}

/** Who else gets the outbox's messages (subscriptions: core/subscriptions/), after the bus. */
export interface OutboxSubscribers {
  deliver(messages: readonly OutboxMessage[]): Promise<unknown>;
}

export interface OutboxDeps {
  publisher: EventPublisher;
  deadLetters: DeadLetterStore;
  /** @default none: the bus alone */
  subscribers?: OutboxSubscribers;
  clock(): Date;
  sleep(ms: number): Promise<void>;
}
