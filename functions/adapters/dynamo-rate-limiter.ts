import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TokenBucket } from '../core/config/guardrails.ts';
import { refill } from '../core/safety/rate-limiter.ts';
import type { RateDecision, RateLimiter } from '../core/safety/rate-limiter.ts';
import { rethrowAwsError } from './aws-errors.ts';

const MAX_ATTEMPTS = 8;

/** Token buckets as items (`pk = RATE#key`), taken with a conditional write on the bucket's version. */
export class DynamoRateLimiter implements RateLimiter {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
  }

  async peek(key: string, bucket: TokenBucket, now: Date): Promise<RateDecision> {
    try {
      const stored = (await this.#db.send(new GetCommand({ TableName: this.#table, Key: { pk: `RATE#${key}`, sk: 'BUCKET' }, ConsistentRead: true }))).Item;
      const state = stored ? { tokens: Number(stored.tokens), refilledAt: Number(stored.refilledAt) } : undefined;
      const next = refill(state, bucket, Math.max(now.getTime(), state?.refilledAt ?? 0));
      return { allowed: next.allowed, retryAfterSeconds: next.retryAfterSeconds };
    } catch (error) {
      rethrowAwsError(error, `reading the token bucket of ${key}`);
    }
  }

  async take(key: string, bucket: TokenBucket, now: Date): Promise<RateDecision> {
    const itemKey = { pk: `RATE#${key}`, sk: 'BUCKET' };
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      try {
        const stored = (await this.#db.send(new GetCommand({ TableName: this.#table, Key: itemKey, ConsistentRead: true }))).Item;
        const state = stored ? { tokens: Number(stored.tokens), refilledAt: Number(stored.refilledAt) } : undefined;
        const at = Math.max(now.getTime(), state?.refilledAt ?? 0);
        const next = refill(state, bucket, at);
        if (!next.allowed) return { allowed: false, retryAfterSeconds: next.retryAfterSeconds };
        await this.#db.send(
          new PutCommand({
            TableName: this.#table,
            Item: {
              ...itemKey,
              entity: 'RateBucket',
              tokens: next.tokens,
              refilledAt: at,
              version: Number(stored?.version ?? 0) + 1,
              expiresAt: Math.floor(at / 1000) + 86_400,
            },
            // The version, not the time: two takes in the same millisecond must not both succeed.
            ConditionExpression: stored ? 'version = :version' : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: stored ? { ':version': Number(stored.version ?? 0) } : undefined,
          }),
        );
        return { allowed: true, retryAfterSeconds: 0 };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) rethrowAwsError(error, `taking a token for ${key}`);
        // Someone else took a token first: read the bucket again, after a little jitter.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
    // So many takers at once that we kept losing the race: that is a burst, and the answer to a burst is "slow down".
    return { allowed: false, retryAfterSeconds: 1 };
  }
}
