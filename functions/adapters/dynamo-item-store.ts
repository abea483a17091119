import { ConditionalCheckFailedException, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Item, ItemStore, ItemUpdate } from '../core/actions/ports.ts';
import { ActionFailed, StalePlan } from '../core/errors.ts';
import { rethrowAwsError } from './aws-errors.ts';

/** The ItemStore port on DynamoDB: writes are conditioned on the item the plan read. */
export class DynamoItemStore implements ItemStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #keySchemas = new Map<string, string[]>();

  constructor(client: DynamoDBDocumentClient) {
    this.#db = client;
  }

  async keyOf(table: string, item: Item): Promise<Item> {
    const attributes = await this.#keyAttributes(table);
    const key: Item = {};
    for (const attribute of attributes) {
      if (item[attribute] === undefined) {
        throw new ActionFailed(`item is missing key attribute "${attribute}" of table ${table}`, { field: `item.${attribute}` });
      }
      key[attribute] = item[attribute];
    }
    return key;
  }

  async get(table: string, key: Item): Promise<Item | undefined> {
    try {
      const result = await this.#db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
      return result.Item;
    } catch (error) {
      return this.#fail(error, table, 'reading');
    }
  }

  async put(table: string, item: Item, expected: Item | undefined): Promise<void> {
    const condition = expected === undefined ? absent(await this.#keyAttributes(table)) : matches(expected, item);
    try {
      await this.#db.send(new PutCommand({ TableName: table, Item: item, ...condition }));
    } catch (error) {
      return this.#fail(error, table, 'writing');
    }
  }

  async delete(table: string, key: Item, expected: Item): Promise<void> {
    try {
      await this.#db.send(new DeleteCommand({ TableName: table, Key: key, ...matches(expected, {}) }));
    } catch (error) {
      return this.#fail(error, table, 'deleting');
    }
  }

  async update(table: string, key: Item, update: ItemUpdate, expected: Item): Promise<void> {
    // Caller strings only ever become placeholder values (#u0 → name, :u0 → value), never expression text.
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const remove: string[] = [];
    const add: string[] = [];
    let i = 0;
    for (const [name, value] of Object.entries(update.set ?? {})) {
      names[`#u${i}`] = name;
      values[`:u${i}`] = value;
      set.push(`#u${i} = :u${i}`);
      i += 1;
    }
    for (const name of update.remove ?? []) {
      names[`#u${i}`] = name;
      remove.push(`#u${i}`);
      i += 1;
    }
    for (const [name, value] of Object.entries(update.add ?? {})) {
      names[`#u${i}`] = name;
      values[`:u${i}`] = value;
      add.push(`#u${i} :u${i}`);
      i += 1;
    }
    const clauses = [set.length ? `SET ${set.join(', ')}` : '', remove.length ? `REMOVE ${remove.join(', ')}` : '', add.length ? `ADD ${add.join(', ')}` : ''];
    const condition = matches(expected, { ...update.set, ...update.add });
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: table,
          Key: key,
          UpdateExpression: clauses.filter(Boolean).join(' '),
          ConditionExpression: condition.ConditionExpression,
          ExpressionAttributeNames: { ...names, ...condition.ExpressionAttributeNames },
          ...(Object.keys(values).length || condition.ExpressionAttributeValues
            ? { ExpressionAttributeValues: { ...values, ...condition.ExpressionAttributeValues } }
            : {}),
        }),
      );
    } catch (error) {
      return this.#fail(error, table, 'updating');
    }
  }

  async #keyAttributes(table: string): Promise<string[]> {
    const cached = this.#keySchemas.get(table);
    if (cached) return cached;
    try {
      const described = await this.#db.send(new DescribeTableCommand({ TableName: table }));
      const attributes = (described.Table?.KeySchema ?? []).map((element) => element.AttributeName ?? '');
      this.#keySchemas.set(table, attributes);
      return attributes;
    } catch (error) {
      return this.#fail(error, table, 'describing');
    }
  }

  #fail(error: unknown, table: string, doing: string): never {
    if (error instanceof ConditionalCheckFailedException) {
      throw new StalePlan(`an item in ${table} changed since it was planned`, { cause: error });
    }
    if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      throw new ActionFailed(`table ${table} does not exist`, { field: 'table', cause: error });
    }
    if (error instanceof Error && error.name === 'ValidationException') {
      throw new ActionFailed(`${doing} ${table}: ${error.message}`, { field: 'item', cause: error });
    }
    return rethrowAwsError(error, `${doing} ${table}`);
  }
}

/** Condition: no item is stored under the key. */
function absent(keyAttributes: string[]) {
  return { ConditionExpression: 'attribute_not_exists(#k0)', ExpressionAttributeNames: { '#k0': keyAttributes[0] } };
}

/** Condition: the stored item equals `expected` on its attributes, and has none of the others `next` sets. */
function matches(expected: Item, next: Item) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const clauses: string[] = [];
  let i = 0;
  for (const [name, value] of Object.entries(expected)) {
    names[`#e${i}`] = name;
    values[`:e${i}`] = value;
    clauses.push(`#e${i} = :e${i}`);
    i += 1;
  }
  for (const name of Object.keys(next)) {
    if (Object.hasOwn(expected, name)) continue;
    names[`#e${i}`] = name;
    clauses.push(`attribute_not_exists(#e${i})`);
    i += 1;
  }
  return {
    ConditionExpression: clauses.join(' AND '),
    ExpressionAttributeNames: names,
    ...(i > 0 && Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}
