import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TokenBucket } from '../core/config/guardrails.ts';
import { bucketWindow, decideTake } from '../core/safety/rate-limiter.ts';
import type { RateDecision, RateLimiter } from '../core/safety/rate-limiter.ts';
import { rethrowAwsError } from './aws-errors.ts';

/** tat only grows, so a take needs at most: full bucket (fails: in use) → in use (fails: empty now). */
const MAX_WRITES = 3;
const DAY_SECONDS = 86_400;

/**
 * Token buckets as items (`pk = RATE#key`, `sk = BUCKET`) holding the bucket's theoretical arrival time
 * (`tat`, see decideTake), taken with one conditional UpdateItem: a full bucket's take sets tat, one in
 * use moves it on. A failed condition returns the item (ReturnValuesOnConditionCheckFailure), which is
 * all the next write needs: no read first, and no retry loop when takers race.
 */
export class DynamoRateLimiter implements RateLimiter {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
  }

  async peek(key: string, bucket: TokenBucket, now: Date): Promise<RateDecision> {
    try {
      return decideTake(await this.#storedTat(key), bucket, now.getTime());
    } catch (error) {
      rethrowAwsError(error, `reading the token bucket of ${key}`);
    }
  }

  async take(key: string, bucket: TokenBucket, now: Date): Promise<RateDecision> {
    const at = now.getTime();
    const { intervalMs, latestTat } = bucketWindow(bucket, at);
    // The latest this take can leave the bucket full again: the item lives a day past it.
    const expires = expiresAt(latestTat + intervalMs);
    // Unknown until a write fails: taken as full, the cheapest guess for a principal not bursting.
    let tat: number | undefined;
    for (let write = 1; write <= MAX_WRITES; write += 1) {
      const decision = decideTake(tat, bucket, at);
      if (!decision.allowed) return decision;
      const full = tat === undefined || tat <= at;
      try {
        await this.#db.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: this.#key(key),
            ...(full
              ? {
                  UpdateExpression: 'SET tat = :next, entity = :entity, expiresAt = :expiresAt REMOVE tokens, refilledAt, version',
                  ConditionExpression: 'attribute_not_exists(tat) OR tat <= :now',
                  ExpressionAttributeValues: { ':next': at + intervalMs, ':entity': 'RateBucket', ':now': at, ':expiresAt': expires },
                }
              : {
                  UpdateExpression: 'SET tat = tat + :interval, expiresAt = :expiresAt',
                  ConditionExpression: 'tat > :now AND tat <= :latest',
                  ExpressionAttributeValues: { ':interval': intervalMs, ':now': at, ':latest': latestTat, ':expiresAt': expires },
                }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { allowed: true, retryAfterSeconds: 0 };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) rethrowAwsError(error, `taking a token for ${key}`);
        tat = tatOf(error.Item) ?? (await this.#storedTat(key));
      }
    }
    // Only a bucket whose item vanished between writes (its TTL) gets here: ask the caller to come back.
    return { allowed: false, retryAfterSeconds: intervalMs / 1000 };
  }

  #key(key: string) {
    return { pk: `RATE#${key}`, sk: 'BUCKET' };
  }

  async #storedTat(key: string): Promise<number | undefined> {
    const stored = (await this.#db.send(new GetCommand({ TableName: this.#table, Key: this.#key(key), ConsistentRead: true }))).Item;
    return stored?.tat === undefined ? undefined : Number(stored.tat);
  }
}

/** The item a failed condition returned is in the wire format (the document client leaves errors alone). */
function tatOf(item: Record<string, { N?: string }> | undefined): number | undefined {
  return item?.tat?.N === undefined ? undefined : Number(item.tat.N);
}

/** A bucket untouched for a day after it can be full again is gone (DynamoDB TTL), as good as full. */
function expiresAt(fullAt: number): number {
  return Math.floor(fullAt / 1000) + DAY_SECONDS;
}
