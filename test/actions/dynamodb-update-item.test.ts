import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbUpdateItem } from '../../functions/actions/dynamodb-update-item.ts';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import { StalePlan, TransientError, VerificationFailed } from '../../functions/core/errors.ts';
import { overriding, planOf, startActionTargets, type ActionTargets } from '../support/action-targets.ts';

let targets: ActionTargets;
beforeAll(async () => {
  targets = await startActionTargets('ddb-update');
});
afterAll(async () => {
  await targets?.stop();
});

const putItem = (item: Record<string, unknown>) => targets.db.send(new PutCommand({ TableName: targets.table, Item: item }));
const getItem = async (id: string) => (await targets.db.send(new GetCommand({ TableName: targets.table, Key: { id }, ConsistentRead: true }))).Item;
const update = (id: string, clauses: Record<string, unknown>) => ({ table: targets.table, key: { id }, ...clauses });

describe('dynamodb.update-item', () => {
  it('plans the after-item from the before-item (SET, REMOVE, ADD), and planning changes nothing', async () => {
    await putItem({ id: 'plan', text: 'hello', draft: true, revision: 4 });
    const ctx = targets.context();
    const plan = await planOf(dynamodbUpdateItem, update('plan', { set: { text: 'hello again', tags: ['a'] }, remove: ['draft'], add: { revision: 1 } }), ctx);
    expect(plan).toMatchObject({ change: 'update', resource: `dynamodb://${targets.table}/{"id":"plan"}` });
    expect(plan.data.item).toEqual({ id: 'plan', text: 'hello again', tags: ['a'], revision: 5 });
    expect(plan.diff).toContain('-  "draft": true');
    expect(plan.diff).toContain('-  "revision": 4');
    expect(plan.diff).toContain('+  "revision": 5');
    expect(plan.diff).toContain('+  "text": "hello again"');
    expect(await getItem('plan')).toEqual({ id: 'plan', text: 'hello', draft: true, revision: 4 });

    const none = await planOf(dynamodbUpdateItem, update('plan', { set: { text: 'hello' } }), ctx);
    expect(none).toMatchObject({ change: 'none', diff: '' });
  });

  it('writes the planned after-item; a second apply changes nothing; verify reads it back', async () => {
    await putItem({ id: 'apply', text: 'one', count: 1 });
    const ctx = targets.context();
    const plan = await planOf(dynamodbUpdateItem, update('apply', { set: { text: 'two' }, add: { count: 2 } }), ctx);
    expect(await dynamodbUpdateItem.apply(plan, ctx)).toEqual({ written: true });
    expect(await getItem('apply')).toEqual({ id: 'apply', text: 'two', count: 3 });
    await dynamodbUpdateItem.verify(plan, {}, ctx);
    // ADD is not idempotent by itself: the replay sees the after-item and adds nothing.
    expect(await dynamodbUpdateItem.apply(plan, { ...ctx, attempt: 2 })).toEqual({ written: false, replayed: true });
    expect(await getItem('apply')).toEqual({ id: 'apply', text: 'two', count: 3 });
  });

  it('refuses with StalePlan, writing nothing, when the item changed after the plan (also in the race after apply read it)', async () => {
    await putItem({ id: 'stale', text: 'planned', count: 1 });
    const ctx = targets.context();
    const plan = await planOf(dynamodbUpdateItem, update('stale', { set: { text: 'ours' }, add: { count: 1 } }), ctx);
    await putItem({ id: 'stale', text: 'theirs', count: 1 });
    await expect(dynamodbUpdateItem.apply(plan, ctx)).rejects.toBeInstanceOf(StalePlan);
    expect(await getItem('stale')).toEqual({ id: 'stale', text: 'theirs', count: 1 });

    // The write lands between apply's read and its update: the condition on every attribute the plan
    // read (and on the absence of those the update adds) refuses it.
    await putItem({ id: 'race', text: 'planned' });
    const racing = await planOf(dynamodbUpdateItem, update('race', { set: { text: 'ours' } }), ctx);
    const raced: ActionContext = {
      ...ctx,
      items: overriding(ctx.items, {
        get: async (table, key) => {
          const read = await ctx.items.get(table, key);
          await putItem({ id: 'race', text: 'theirs' });
          return read;
        },
      }),
    };
    await expect(dynamodbUpdateItem.apply(racing, raced)).rejects.toBeInstanceOf(StalePlan);
    expect(await getItem('race')).toEqual({ id: 'race', text: 'theirs' });
  });

  it('verify fails when the item does not read back as updated', async () => {
    await putItem({ id: 'verify', text: 'before' });
    const ctx = targets.context();
    const plan = await planOf(dynamodbUpdateItem, update('verify', { set: { text: 'after' } }), ctx);
    await expect(dynamodbUpdateItem.verify(plan, {}, ctx)).rejects.toBeInstanceOf(VerificationFailed);
  });

  it('rollback puts the before-item back, removed attributes included, once; never over a later write', async () => {
    const before = { id: 'rollback', text: 'before', draft: true, count: 7 };
    await putItem(before);
    const ctx = targets.context();
    const plan = await planOf(dynamodbUpdateItem, update('rollback', { set: { text: 'after', extra: 1 }, remove: ['draft'], add: { count: 1 } }), ctx);
    const outcome = await dynamodbUpdateItem.apply(plan, ctx);
    await dynamodbUpdateItem.rollback(plan, outcome, ctx);
    expect(await getItem('rollback')).toEqual(before);
    await dynamodbUpdateItem.rollback(plan, outcome, ctx);
    expect(await getItem('rollback')).toEqual(before);

    await dynamodbUpdateItem.apply(plan, ctx);
    await putItem({ id: 'rollback', text: 'written after the update' });
    await dynamodbUpdateItem.rollback(plan, outcome, ctx);
    expect(await getItem('rollback')).toEqual({ id: 'rollback', text: 'written after the update' });
  });

  it('a replay after a crash between the update and the recorded outcome writes nothing more', async () => {
    await putItem({ id: 'crash', count: 10 });
    const ctx = targets.context();
    const plan = await planOf(dynamodbUpdateItem, update('crash', { add: { count: 5 } }), ctx);
    const lost: ActionContext = {
      ...ctx,
      items: overriding(ctx.items, {
        update: async (...args) => {
          await ctx.items.update(...args);
          throw new TransientError('connection reset after the update');
        },
      }),
    };
    await expect(dynamodbUpdateItem.apply(plan, lost)).rejects.toBeInstanceOf(TransientError);
    expect(await dynamodbUpdateItem.apply(plan, { ...ctx, attempt: 2 })).toEqual({ written: false, replayed: true });
    expect(await getItem('crash')).toEqual({ id: 'crash', count: 15 });
  });

  it('refuses bad updates naming the field', async () => {
    const ctx = targets.context();
    const parse = (clauses: Record<string, unknown>) => dynamodbUpdateItem.schema.safeParse(update('bad', clauses));
    expect(parse({}).error?.issues[0]).toMatchObject({ path: ['set'] });
    expect(parse({ set: { a: 1 }, remove: ['a'] }).error?.issues[0].message).toMatch(/more than one clause/);
    expect(parse({ add: { a: 1.5 } }).error?.issues[0].path).toEqual(['add', 'a']);
    expect(parse({ set: { a: 1 }, condition: 'x' }).success).toBe(false);

    await putItem({ id: 'bad', text: 'x' });
    const plan = (clauses: Record<string, unknown>, key: Record<string, unknown> = { id: 'bad' }) =>
      dynamodbUpdateItem.plan(dynamodbUpdateItem.schema.parse({ table: targets.table, key, ...clauses }), ctx);
    await expect(plan({ set: { id: 'other' } })).rejects.toMatchObject({ name: 'ActionFailed', field: 'set.id' });
    await expect(plan({ add: { text: 1 } })).rejects.toMatchObject({ name: 'ActionFailed', field: 'add.text' });
    await expect(plan({ set: { a: 1 } }, { id: 'missing' })).rejects.toMatchObject({ name: 'ActionFailed', field: 'key' });
    await expect(plan({ set: { a: 1 } }, { id: 'bad', sort: 1 })).rejects.toMatchObject({ name: 'ActionFailed', field: 'key.sort' });
    await expect(plan({ set: { a: 1 } }, { nope: 'x' })).rejects.toMatchObject({ name: 'ActionFailed', field: 'item.id' });
    // Attributes named like Object.prototype members are just names.
    const proto = await planOf(dynamodbUpdateItem, update('bad', { set: { constructor: 'c', toString: 't' }, add: { hasOwnProperty: 1 } }), ctx);
    await dynamodbUpdateItem.apply(proto, ctx);
    expect(await getItem('bad')).toEqual({ id: 'bad', text: 'x', constructor: 'c', toString: 't', hasOwnProperty: 1 });
  });
});
