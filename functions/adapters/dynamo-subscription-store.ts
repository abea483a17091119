import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Subscription } from '../core/subscriptions/model.ts';
import type { SubscriptionStore } from '../core/subscriptions/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';
import { queryAllPages } from './query-all-pages.ts';
import { ListingCache } from './listing-cache.ts';

const INDEX_PK = 'SUBSCRIPTIONS';
const subscriptionKey = (id: string) => ({ pk: `SUB#${id}`, sk: 'SUB' });

/** Subscriptions in the state table (`pk = SUB#<id>`), listed oldest first through `gsi1` (`gsi1pk = SUBSCRIPTIONS`). */
export class DynamoSubscriptionStore implements SubscriptionStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  #writes = 0;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
  }

  /** Changes made through this store (a `ListingCache` of `list()` reads again after each). */
  writes(): number {
    return this.#writes;
  }

  async put(subscription: Subscription): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...subscriptionKey(subscription.id),
            entity: 'Subscription',
            gsi1pk: INDEX_PK,
            gsi1sk: `${subscription.createdAt}#${subscription.id}`,
            ...subscription,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      rethrowAwsError(error, `recording subscription ${subscription.id}`);
    } finally {
      this.#writes += 1;
    }
  }

  async get(id: string): Promise<Subscription | undefined> {
    try {
      const result = await this.#db.send(new GetCommand({ TableName: this.#table, Key: subscriptionKey(id), ConsistentRead: true }));
      return result.Item ? toSubscription(result.Item) : undefined;
    } catch (error) {
      return rethrowAwsError(error, `reading subscription ${id}`);
    }
  }

  async list(): Promise<Subscription[]> {
    const items = await queryAllPages(
      this.#db,
      {
        TableName: this.#table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :subscriptions',
        ExpressionAttributeValues: { ':subscriptions': INDEX_PK },
      },
      'listing subscriptions',
    );
    return items.map(toSubscription);
  }

  async remove(id: string): Promise<boolean> {
    try {
      const result = await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: subscriptionKey(id), ReturnValues: 'ALL_OLD' }));
      return result.Attributes !== undefined;
    } catch (error) {
      return rethrowAwsError(error, `removing subscription ${id}`);
    } finally {
      this.#writes += 1;
    }
  }
}

function toSubscription(item: Record<string, unknown>): Subscription {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...subscription } = item;
  return subscription as unknown as Subscription;
}

/**
 * How long the relay may deliver from a subscription list it read: it consults the list for every
 * batch of outbox rows, so it reads it at most this often, and at once after a change made through
 * the same store (on the embedded stack the API and the relay share it). In AWS, where the API and the
 * relay are different functions, a subscription created or deleted is seen by a warm relay within this.
 */
export const SUBSCRIPTION_LIST_MAX_AGE_MS = 5_000;

/** The store as the relay reads it: `list()` through a {@link ListingCache}, the rest as is. */
export function withCachedList(store: SubscriptionStore & { writes?(): number }, maxAgeMs = SUBSCRIPTION_LIST_MAX_AGE_MS): SubscriptionStore {
  const cache = new ListingCache({ load: () => store.list(), writes: () => store.writes?.() ?? 0, maxAgeMs });
  return {
    put: (subscription) => store.put(subscription),
    get: (id) => store.get(id),
    list: () => cache.list(),
    remove: (id) => store.remove(id),
  };
}
