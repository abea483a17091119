/** Where a subscription delivers: a URL (the message as JSON), or a Slack incoming webhook (a Slack message). */
export const SubscriptionKind = { url: 'url', slack: 'slack' } as const;
export type SubscriptionKind = (typeof SubscriptionKind)[keyof typeof SubscriptionKind];

/**
 * A subscriber: matching outbox messages are POSTed to its URL, signed with its secret
 * (`X-Maestro-Signature-256: sha256=<HMAC-SHA256(secret, body) hex>`), each carrying its message id
 * (`X-Maestro-Event-Id`) for the receiver to dedupe on.
 */
export interface Subscription {
  id: string;
  kind: SubscriptionKind;
  url: string;
  /** Event types delivered (`DriftDetected`, `RunSucceeded`), or `*` for every type. */
  eventTypes: string[];
  /** Environments whose events are delivered; empty: every environment. */
  environments: string[];
  /** The signing secret: shown once, in the answer to the create; never listed. */
  secret: string;
  createdBy: string;
  createdAt: string;
  description?: string;
}

/** A subscription as the API lists it: never its secret. */
export type SubscriptionView = Omit<Subscription, 'secret'>;

export const subscriptionView = ({ secret: _secret, ...view }: Subscription): SubscriptionView => view;
