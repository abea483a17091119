import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Subscription } from '../core/subscriptions/model.ts';
import type { SubscriptionStore } from '../core/subscriptions/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';
import { queryAllPages } from './query-all-pages.ts';

const INDEX_PK = 'SUBSCRIPTIONS';
const subscriptionKey = (id: string) => ({ pk: `SUB#${id}`, sk: 'SUB' });

/** Subscriptions in the state table (`pk = SUB#<id>`), listed oldest first through `gsi1` (`gsi1pk = SUBSCRIPTIONS`). */
export class DynamoSubscriptionStore implements SubscriptionStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
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
    }
  }
}

function toSubscription(item: Record<string, unknown>): Subscription {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, ...subscription } = item;
  return subscription as unknown as Subscription;
}
