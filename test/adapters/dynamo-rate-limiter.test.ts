import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoRateLimiter } from '../../functions/adapters/dynamo-rate-limiter.ts';
import { ensureStateTable } from '../../local/dynamodb/tables.ts';

const client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const documents = DynamoDBDocumentClient.from(client);
const tableName = `rate-${randomBytes(3).toString('hex')}-maestro-state`;
const limiter = new DynamoRateLimiter({ client: documents, tableName });
const key = () => `test:${randomUUID()}`;
const at = (ms: number) => new Date(1_800_000_000_000 + ms);

/** Every request the limiter sends, by command name. */
function countRequests() {
  const counted = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const commands: string[] = [];
  counted.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize' },
  );
  return { limiter: new DynamoRateLimiter({ client: DynamoDBDocumentClient.from(counted), tableName }), commands };
}

beforeAll(async () => {
  await ensureStateTable(client, tableName);
});

describe('DynamoRateLimiter', () => {
  it('grants every token of a burst that fits the bucket, however many takers race for it', async () => {
    const bucket = key();
    const decisions = await Promise.all(Array.from({ length: 24 }, () => limiter.take(bucket, { capacity: 24, refillPerSecond: 0.001 }, at(0))));
    expect(decisions.filter((decision) => !decision.allowed)).toEqual([]);
  });

  it('never hands out more tokens than the bucket holds to concurrent takers, and says when the next one is free', async () => {
    const bucket = key();
    const decisions = await Promise.all(Array.from({ length: 12 }, () => limiter.take(bucket, { capacity: 5, refillPerSecond: 0.5 }, at(0))));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5);
    // Five taken at once from a bucket of five refilled at one token per 2 s: the next token is 2 s away.
    expect(decisions.filter((decision) => !decision.allowed).map((decision) => decision.retryAfterSeconds)).toEqual(Array(7).fill(2));
  });

  it('refills at its rate up to its capacity, never beyond', async () => {
    const bucket = key();
    const spec = { capacity: 2, refillPerSecond: 1 };
    const take = (ms: number) => limiter.take(bucket, spec, at(ms)).then((decision) => decision.allowed);
    expect([await take(0), await take(0), await take(0)]).toEqual([true, true, false]);
    expect([await take(1000), await take(1000)]).toEqual([true, false]);
    // An hour idle refills two tokens, not 3,600.
    expect([await take(3_601_000), await take(3_601_000), await take(3_601_000)]).toEqual([true, true, false]);
    expect(await limiter.peek(bucket, spec, at(3_601_000))).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(await limiter.peek(bucket, spec, at(3_602_000))).toEqual({ allowed: true, retryAfterSeconds: 0 });
  });

  it('peeks without taking', async () => {
    const bucket = key();
    const spec = { capacity: 1, refillPerSecond: 0.1 };
    expect(await limiter.peek(bucket, spec, at(0))).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(await limiter.peek(bucket, spec, at(0))).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect((await limiter.take(bucket, spec, at(0))).allowed).toBe(true);
    expect(await limiter.peek(bucket, spec, at(4000))).toEqual({ allowed: false, retryAfterSeconds: 6 });
  });

  it('takes a token in one conditional write from a full bucket, in two from one in use, and refuses in one', async () => {
    const bucket = key();
    const spec = { capacity: 3, refillPerSecond: 1 };
    const { limiter: counting, commands } = countRequests();
    expect((await counting.take(bucket, spec, at(0))).allowed).toBe(true);
    expect(commands.splice(0)).toEqual(['UpdateItemCommand']);
    expect((await counting.take(bucket, spec, at(10))).allowed).toBe(true);
    expect((await counting.take(bucket, spec, at(20))).allowed).toBe(true);
    expect(commands.splice(0)).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
    expect(await counting.take(bucket, spec, at(30))).toEqual({ allowed: false, retryAfterSeconds: 0.97 });
    expect(commands.splice(0)).toEqual(['UpdateItemCommand']);
    // Idle long enough to be full again: one write.
    expect((await counting.take(bucket, spec, at(5000))).allowed).toBe(true);
    expect(commands.splice(0)).toEqual(['UpdateItemCommand']);
  });

  it('takes over a bucket stored in the earlier format (tokens, refilledAt, version) as a full one', async () => {
    const bucket = key();
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: `RATE#${bucket}`, sk: 'BUCKET', entity: 'RateBucket', tokens: 0, refilledAt: at(0).getTime(), version: 7 },
      }),
    );
    expect((await limiter.take(bucket, { capacity: 1, refillPerSecond: 0.001 }, at(0))).allowed).toBe(true);
    expect((await limiter.take(bucket, { capacity: 1, refillPerSecond: 0.001 }, at(0))).allowed).toBe(false);
    const stored = (await documents.send(new GetCommand({ TableName: tableName, Key: { pk: `RATE#${bucket}`, sk: 'BUCKET' } }))).Item;
    expect(stored).not.toHaveProperty('tokens');
    expect(stored).not.toHaveProperty('version');
  });
});
