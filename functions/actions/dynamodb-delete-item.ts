import * as z from 'zod';
import { canonicalJson } from '../core/canonical-json.ts';
import { StalePlan, VerificationFailed } from '../core/errors.ts';
import type { TaskPlan } from '../core/runs/model.ts';
import type { Action } from '../core/actions/contract.ts';
import { dynamodbItemUri, dynamodbTableUri } from '../core/actions/resources.ts';
import type { Item } from '../core/actions/ports.ts';
import { exactKey, itemKey, sameItem, tableName } from './dynamodb-params.ts';
import { renderDiff, stableJson } from './render-diff.ts';

const DynamoDbDeleteItemParams = z.strictObject({ table: tableName, key: itemKey });
type DynamoDbDeleteItemParams = z.infer<typeof DynamoDbDeleteItemParams>;

interface DeleteItemPlanData extends Record<string, unknown> {
  table: string;
  key: Item;
  previous: Item | null;
}

const dataOf = (plan: TaskPlan) => plan.data as DeleteItemPlanData;

/** Deletes one item, conditional on it being what the plan read; rollback puts it back while the key stays free. */
export const dynamodbDeleteItem: Action<DynamoDbDeleteItemParams> = {
  name: 'dynamodb.delete-item',
  version: '1.0.0',
  description: 'Deletes one item from a DynamoDB table if it is still what the plan read; plans show the item removed; rollback puts it back.',
  safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: DynamoDbDeleteItemParams,
  // The item's URI needs the table's key schema (I/O) to be canonical, so the declared resource is the table.
  resources: (params) => [{ uri: dynamodbTableUri(params.table), access: 'write' }],
  examples: [{ description: 'Delete one item (rollback puts it back if the key is still free)', params: { table: 'maestro-demo', key: { id: 'greeting' } } }],

  async plan(params, ctx) {
    const key = await exactKey(ctx, params.table, params.key);
    const resource = dynamodbItemUri(params.table, key);
    const previous = await ctx.items.get(params.table, key);
    const data: DeleteItemPlanData = { table: params.table, key, previous: previous ?? null };
    return {
      summary: previous ? `delete item ${resource}` : `no change: item ${resource} does not exist`,
      change: previous ? 'delete' : 'none',
      resource,
      diff: previous ? renderDiff(resource, stableJson(previous), undefined) : '',
      preconditions: { previous: previous ?? null },
      data,
    };
  },

  async apply(plan, ctx) {
    const data = dataOf(plan);
    const item = `item ${canonicalJson(data.key)} in ${data.table}`;
    const current = await ctx.items.get(data.table, data.key);
    if (!data.previous) {
      if (current) throw new StalePlan(`${item} was created since it was planned`);
      return { deleted: false, unchanged: true };
    }
    if (!current) {
      // Gone. On a later attempt, an earlier one of this task may have deleted it and crashed before its
      // outcome was recorded (DynamoDB keeps no trace of who deleted); on the first, someone else did.
      if ((ctx.attempt ?? 1) > 1) return { deleted: true, replayed: true };
      throw new StalePlan(`${item} was deleted since it was planned`);
    }
    if (!sameItem(current, data.previous)) throw new StalePlan(`${item} changed since it was planned`);
    await ctx.writeGuard?.assertWritable({ kind: 'table', table: data.table });
    await ctx.items.delete(data.table, data.key, data.previous);
    return { deleted: true };
  },

  async verify(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    if (current) throw new VerificationFailed(`item ${canonicalJson(data.key)} in ${data.table} still exists after the delete`);
  },

  async rollback(plan, _outcome, ctx) {
    const data = dataOf(plan);
    if (!data.previous) return;
    const current = await ctx.items.get(data.table, data.key);
    // Something is stored under the key: apply never deleted, or someone wrote after us. Never overwritten.
    if (current) return;
    await ctx.writeGuard?.assertWritable({ kind: 'table', table: data.table });
    try {
      // Only while the key is still free (the put is conditional on absence).
      await ctx.items.put(data.table, data.previous, undefined);
    } catch (error) {
      if (error instanceof StalePlan) return;
      throw error;
    }
  },
};
