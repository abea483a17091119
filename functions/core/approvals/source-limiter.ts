/**
 * An in-process token bucket per source (an IP address): `take` says whether one more log line may be
 * written for that source now. Each bucket holds `burst` tokens and refills `perMinute` a minute; at
 * most `maxSources` buckets are kept (the least recently used go first), so a flood of spoofed or
 * varied sources costs bounded memory. Per process: in Lambda each container limits on its own.
 */
export class SourceLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number; suppressed: number }>();
  readonly #burst: number;
  readonly #perMs: number;
  readonly #maxSources: number;

  constructor(options: { burst?: number; perMinute?: number; maxSources?: number } = {}) {
    this.#burst = options.burst ?? 5;
    this.#perMs = (options.perMinute ?? 6) / 60_000;
    this.#maxSources = options.maxSources ?? 10_000;
  }

  /** `allowed`: write the line (with `suppressed`, how many were dropped for this source since the last one). */
  take(source: string, now: number): { allowed: boolean; suppressed: number } {
    const bucket = this.#buckets.get(source) ?? { tokens: this.#burst, at: now, suppressed: 0 };
    this.#buckets.delete(source); // re-inserted below: the Map's order is least recently used first
    bucket.tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, now - bucket.at) * this.#perMs);
    bucket.at = now;
    let result: { allowed: boolean; suppressed: number };
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      result = { allowed: true, suppressed: bucket.suppressed };
      bucket.suppressed = 0;
    } else {
      bucket.suppressed += 1;
      result = { allowed: false, suppressed: bucket.suppressed };
    }
    this.#buckets.set(source, bucket);
    while (this.#buckets.size > this.#maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
    return result;
  }

  /** How many sources are tracked (for tests). */
  get size(): number {
    return this.#buckets.size;
  }
}
