import type { DeadLetterStore } from '../outbox/ports.ts';
import type { OutboxMessage, PublishResult } from '../outbox/model.ts';
import type { EgressPolicy } from '../egress/policy.ts';
import type { HostResolver } from '../egress/check-egress.ts';
import type { Subscription } from './model.ts';

export interface SubscriptionStore {
  put(subscription: Subscription): Promise<void>;
  get(id: string): Promise<Subscription | undefined>;
  /** Every subscription (deliveries match each message against all of them). */
  list(): Promise<Subscription[]>;
  /** False when there was none. */
  remove(id: string): Promise<boolean>;
}

/** One signed POST; failures come back as results with a category (transient ones are retried). */
export interface DeliverySender {
  send(subscription: Subscription, request: { body: string; headers: Record<string, string> }): Promise<PublishResult>;
}

export interface SubscriptionDeps {
  subscriptions: SubscriptionStore;
  sender: DeliverySender;
  /** A subscription's own dead letters (deliveries that kept failing), apart from the outbox's. */
  deadLettersFor(subscriptionId: string): DeadLetterStore;
  /** Where subscriptions may deliver, judged by the egress guard. */
  destinations: EgressPolicy;
  resolve: HostResolver;
  /** The environment of a run (run events carry none of their own). */
  environmentOf(runId: string): Promise<string | undefined>;
  clock(): Date;
  sleep(ms: number): Promise<void>;
  newId(): string;
}

export type { OutboxMessage };
