import type { ErrorCategory } from '../errors.ts';

/** EventBridge `Source` of every event Maestro publishes. */
export const OUTBOX_SOURCE = 'maestro';

/** Payloads above this size (canonical JSON bytes) are left out of the message; the event keeps them. */
export const MAX_OUTBOX_PAYLOAD_BYTES = 4 * 1024;

/**
 * The announcement of one run event, written in the same transaction as the state change it
 * announces and delivered at least once. `id` (`<runId>#<seq>`) is what consumers dedupe on.
 */
export interface OutboxMessage {
  id: string;
  runId: string;
  seq: number;
  type: string;
  level: string;
  correlationId: string;
  ts: string;
  taskIndex?: number;
  /** The environment, for messages that are not a run's events (a drift finding); a run event's is its run's. */
  environment?: string;
  message: string;
  payload?: Record<string, unknown>;
  /** True when the payload was too large to travel: read it from `GET /runs/{id}/events`. */
  payloadOmitted?: boolean;
}

/** Why a delivery failed, in the categories of core/errors.ts. */
export interface DeliveryFailure {
  name: string;
  message: string;
  category: ErrorCategory;
}

/** A message the relay gave up on: kept until an admin re-drives it. */
export interface DeadLetter {
  id: string;
  message: OutboxMessage;
  error: DeliveryFailure;
  /** Delivery attempts so far, the relay's and every re-drive's. */
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  redrives: number;
}

export type PublishResult = { ok: true } | { ok: false; error: DeliveryFailure };
