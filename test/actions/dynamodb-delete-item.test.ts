import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbDeleteItem } from '../../functions/actions/dynamodb-delete-item.ts';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import { StalePlan, TransientError, VerificationFailed } from '../../functions/core/errors.ts';
import { overriding, planOf, startActionTargets, type ActionTargets } from '../support/action-targets.ts';

let targets: ActionTargets;
beforeAll(async () => {
  targets = await startActionTargets('ddb-delete');
});
afterAll(async () => {
  await targets?.stop();
});

const putItem = (item: Record<string, unknown>) => targets.db.send(new PutCommand({ TableName: targets.table, Item: item }));
const getItem = async (id: string) => (await targets.db.send(new GetCommand({ TableName: targets.table, Key: { id }, ConsistentRead: true }))).Item;
const params = (id: string) => ({ table: targets.table, key: { id } });

describe('dynamodb.delete-item', () => {
  it('plans the item removed, and planning changes nothing', async () => {
    await putItem({ id: 'plan', text: 'hello' });
    const ctx = targets.context();
    const plan = await planOf(dynamodbDeleteItem, params('plan'), ctx);
    expect(plan).toMatchObject({ change: 'delete', resource: `dynamodb://${targets.table}/{"id":"plan"}` });
    expect(plan.diff).toContain('+++ /dev/null');
    expect(plan.diff).toContain('-  "text": "hello"');
    expect(await getItem('plan')).toEqual({ id: 'plan', text: 'hello' });
    expect((await planOf(dynamodbDeleteItem, params('absent'), ctx)).change).toBe('none');
  });

  it('deletes the item; a replayed apply changes nothing; verify finds it absent', async () => {
    await putItem({ id: 'apply', text: 'bye' });
    const ctx = targets.context();
    const plan = await planOf(dynamodbDeleteItem, params('apply'), ctx);
    expect(await dynamodbDeleteItem.apply(plan, ctx)).toEqual({ deleted: true });
    expect(await getItem('apply')).toBeUndefined();
    await dynamodbDeleteItem.verify(plan, {}, ctx);
    expect(await dynamodbDeleteItem.apply(plan, { ...ctx, attempt: 2 })).toEqual({ deleted: true, replayed: true });
    expect(await getItem('apply')).toBeUndefined();
  });

  it('refuses with StalePlan, writing nothing, when the item changed, was deleted by someone else, or was created after the plan', async () => {
    await putItem({ id: 'stale', text: 'planned' });
    const ctx = targets.context();
    const plan = await planOf(dynamodbDeleteItem, params('stale'), ctx);
    await putItem({ id: 'stale', text: 'theirs' });
    await expect(dynamodbDeleteItem.apply(plan, ctx)).rejects.toBeInstanceOf(StalePlan);
    expect(await getItem('stale')).toEqual({ id: 'stale', text: 'theirs' });

    // The change lands between apply's read and its delete: the condition refuses it.
    await putItem({ id: 'race', text: 'planned' });
    const racing = await planOf(dynamodbDeleteItem, params('race'), ctx);
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
    await expect(dynamodbDeleteItem.apply(racing, raced)).rejects.toBeInstanceOf(StalePlan);
    expect(await getItem('race')).toEqual({ id: 'race', text: 'theirs' });

    // Gone before the first attempt: someone else's delete, not a replay of ours.
    await putItem({ id: 'gone', text: 'planned' });
    const gone = await planOf(dynamodbDeleteItem, params('gone'), ctx);
    await targets.db.send(new DeleteCommand({ TableName: targets.table, Key: { id: 'gone' } }));
    await expect(dynamodbDeleteItem.apply(gone, ctx)).rejects.toBeInstanceOf(StalePlan);

    const none = await planOf(dynamodbDeleteItem, params('late'), ctx);
    await putItem({ id: 'late', text: 'created after the plan' });
    await expect(dynamodbDeleteItem.apply(none, ctx)).rejects.toBeInstanceOf(StalePlan);
    expect(await getItem('late')).toEqual({ id: 'late', text: 'created after the plan' });
  });

  it('verify fails while the item exists', async () => {
    await putItem({ id: 'verify', text: 'still here' });
    const ctx = targets.context();
    const plan = await planOf(dynamodbDeleteItem, params('verify'), ctx);
    await expect(dynamodbDeleteItem.verify(plan, {}, ctx)).rejects.toBeInstanceOf(VerificationFailed);
  });

  it('rollback puts the item back while the key is free, once; never over a later write', async () => {
    const before = { id: 'rollback', text: 'keep me', nested: { a: [1, 2] } };
    await putItem(before);
    const ctx = targets.context();
    const plan = await planOf(dynamodbDeleteItem, params('rollback'), ctx);
    const outcome = await dynamodbDeleteItem.apply(plan, ctx);
    await dynamodbDeleteItem.rollback(plan, outcome, ctx);
    expect(await getItem('rollback')).toEqual(before);
    await dynamodbDeleteItem.rollback(plan, outcome, ctx);
    expect(await getItem('rollback')).toEqual(before);

    await dynamodbDeleteItem.apply(plan, { ...ctx, attempt: 2 });
    await putItem({ id: 'rollback', text: 'written after the delete' });
    await dynamodbDeleteItem.rollback(plan, outcome, ctx);
    expect(await getItem('rollback')).toEqual({ id: 'rollback', text: 'written after the delete' });
  });

  it('a replay after a crash between the delete and the recorded outcome writes nothing more', async () => {
    await putItem({ id: 'crash', text: 'x' });
    const ctx = targets.context();
    const plan = await planOf(dynamodbDeleteItem, params('crash'), ctx);
    const lost: ActionContext = {
      ...ctx,
      items: overriding(ctx.items, {
        delete: async (...args) => {
          await ctx.items.delete(...args);
          throw new TransientError('connection reset after the delete');
        },
      }),
    };
    await expect(dynamodbDeleteItem.apply(plan, lost)).rejects.toBeInstanceOf(TransientError);
    expect(await dynamodbDeleteItem.apply(plan, { ...ctx, attempt: 2 })).toEqual({ deleted: true, replayed: true });
    expect(await getItem('crash')).toBeUndefined();
    // Rolled back with no outcome recorded: the item comes back.
    await dynamodbDeleteItem.rollback(plan, undefined, ctx);
    expect(await getItem('crash')).toEqual({ id: 'crash', text: 'x' });
  });

  it('refuses a key that is not the table key, naming the field', async () => {
    const ctx = targets.context();
    const plan = (key: Record<string, unknown>) => dynamodbDeleteItem.plan(dynamodbDeleteItem.schema.parse({ table: targets.table, key }), ctx);
    await expect(plan({ id: 'x', sort: 1 })).rejects.toMatchObject({ name: 'ActionFailed', field: 'key.sort' });
    expect(dynamodbDeleteItem.schema.safeParse({ table: targets.table, key: {} }).error?.issues[0].path).toEqual(['key']);
  });
});
