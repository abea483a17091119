import type { TokenBucket } from '../config/guardrails.ts';

export interface RateDecision {
  allowed: boolean;
  /** When a token will next be available, if none is now. */
  retryAfterSeconds: number;
}

/** Token buckets shared by every process (DynamoDB in both AWS and the embedded stack). */
export interface RateLimiter {
  take(key: string, bucket: TokenBucket, now: Date): Promise<RateDecision>;
  /** What `take` would answer now, taking nothing (plan simulation). */
  peek(key: string, bucket: TokenBucket, now: Date): Promise<RateDecision>;
}

/** The bucket after refilling from `refilledAt` to `now`, and whether a token can be taken. */
export function refill(state: { tokens: number; refilledAt: number } | undefined, bucket: TokenBucket, now: number) {
  const tokens = state ? Math.min(bucket.capacity, state.tokens + ((now - state.refilledAt) / 1000) * bucket.refillPerSecond) : bucket.capacity;
  if (tokens >= 1) return { allowed: true, tokens: tokens - 1, retryAfterSeconds: 0 };
  return { allowed: false, tokens, retryAfterSeconds: (1 - tokens) / bucket.refillPerSecond };
}
