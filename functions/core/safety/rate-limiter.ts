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

/**
 * A token bucket held as one number, the generic cell rate algorithm's theoretical arrival time
 * (`tat`, ms): the bucket is full at any time ≥ tat and holds `capacity − (tat − now) / interval`
 * tokens before it. Taking a token moves tat one interval on from `max(tat, now)`, so a store can take
 * it with one conditional write whose condition depends on bounds, not on the exact value: concurrent
 * takers never invalidate each other's read, as they would a stored token count.
 */
export function bucketWindow(bucket: TokenBucket, now: number) {
  const intervalMs = 1000 / bucket.refillPerSecond;
  /** The latest tat that still leaves a token at `now`. */
  const latestTat = now + (bucket.capacity - 1) * intervalMs;
  return { intervalMs, latestTat };
}

/** What a take at `now` would answer with the bucket's tat at `tat` (undefined: never taken, full). */
export function decideTake(tat: number | undefined, bucket: TokenBucket, now: number): RateDecision {
  const { latestTat } = bucketWindow(bucket, now);
  const from = Math.max(tat ?? now, now);
  if (from <= latestTat) return { allowed: true, retryAfterSeconds: 0 };
  return { allowed: false, retryAfterSeconds: (from - latestTat) / 1000 };
}
