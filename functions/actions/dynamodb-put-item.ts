import * as z from 'zod';
import { canonicalJson } from '../core/canonical-json.ts';
import { VerificationFailed } from '../core/errors.ts';
import type { TaskPlan } from '../core/runs/model.ts';
import type { Action } from '../core/actions/contract.ts';
import { dynamodbItemUri, dynamodbTableUri } from '../core/actions/resources.ts';
import type { Item } from '../core/actions/ports.ts';
import { renderDiff, stableJson } from './render-diff.ts';

const MAX_ITEM_BYTES = 64 * 1024;

const DynamoDbPutItemParams = z.strictObject({
  table: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 letters, digits, _ . -)'),
  item: z
    .record(z.string(), z.unknown())
    .refine((item) => Object.keys(item).length > 0, 'must have at least the key attributes')
    .refine((item) => Buffer.byteLength(JSON.stringify(item)) <= MAX_ITEM_BYTES, `must be at most ${MAX_ITEM_BYTES} bytes as JSON`),
});
type DynamoDbPutItemParams = z.infer<typeof DynamoDbPutItemParams>;

interface PutItemPlanData extends Record<string, unknown> {
  table: string;
  key: Item;
  item: Item;
  previous: Item | null;
}

const dataOf = (plan: TaskPlan) => plan.data as PutItemPlanData;
const same = (a: Item | undefined | null, b: Item | undefined | null) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/** Writes one item; rollback puts the previous item back (or deletes the one it created). */
export const dynamodbPutItem: Action<DynamoDbPutItemParams> = {
  name: 'dynamodb.put-item',
  version: '1.0.0',
  description: 'Writes one item to a DynamoDB table; plans show the item diff; rollback restores the previous item.',
  safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: DynamoDbPutItemParams,
  // The item's key needs the table's key schema (I/O), so the declared resource is the table itself.
  resources: (params) => [{ uri: dynamodbTableUri(params.table), access: 'write' }],
  examples: [
    {
      description: 'Create or replace one item (rollback puts the previous item back)',
      params: { table: 'maestro-demo', item: { id: 'greeting', text: 'hello' } },
    },
  ],

  async plan(params, ctx) {
    const key = await ctx.items.keyOf(params.table, params.item);
    const resource = dynamodbItemUri(params.table, key);
    const previous = await ctx.items.get(params.table, key);
    const unchanged = same(previous, params.item);
    const data: PutItemPlanData = { table: params.table, key, item: params.item, previous: previous ?? null };
    return {
      summary: !previous ? `create item ${resource}` : unchanged ? `no change to item ${resource}` : `update item ${resource}`,
      change: !previous ? 'create' : unchanged ? 'none' : 'update',
      resource,
      diff: unchanged ? '' : renderDiff(resource, previous ? stableJson(previous) : undefined, stableJson(params.item)),
      preconditions: { previous: previous ?? null },
      data,
    };
  },

  async apply(plan, ctx) {
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    if (same(current, data.item)) return { written: false, replayed: plan.change !== 'none' };
    await ctx.writeGuard?.assertWritable({ kind: 'table', table: data.table });
    await ctx.items.put(data.table, data.item, data.previous ?? undefined);
    return { written: true };
  },

  async verify(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    if (!same(current, data.item)) throw new VerificationFailed(`item ${canonicalJson(data.key)} in ${data.table} does not read back as written`);
  },

  async rollback(plan, _outcome, ctx) {
    if (plan.change === 'none') return;
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    // Not what we wrote: apply never wrote (it failed or crashed first), or someone wrote after us.
    // Either way there is nothing of ours to undo, and we never write over someone else's change.
    if (!same(current, data.item)) return;
    if (data.previous) await ctx.items.put(data.table, data.previous, data.item);
    else await ctx.items.delete(data.table, data.key, data.item);
  },
};
