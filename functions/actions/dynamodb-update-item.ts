import * as z from 'zod';
import { canonicalJson } from '../core/canonical-json.ts';
import { ActionFailed, StalePlan, VerificationFailed } from '../core/errors.ts';
import type { TaskPlan } from '../core/runs/model.ts';
import type { Action } from '../core/actions/contract.ts';
import { dynamodbItemUri, dynamodbTableUri } from '../core/actions/resources.ts';
import type { Item, ItemUpdate } from '../core/actions/ports.ts';
import { exactKey, itemKey, sameItem, tableName } from './dynamodb-params.ts';
import { renderDiff, stableJson } from './render-diff.ts';

const MAX_UPDATE_BYTES = 64 * 1024;
const MAX_ATTRIBUTES = 100;

const attributeName = z
  .string()
  .min(1)
  .refine((name) => Buffer.byteLength(name) <= 255, 'must be at most 255 bytes');

/**
 * The update as data, not an UpdateExpression string: top-level attributes only, each clause a map or a
 * list. Plan computes the after-item from these exactly as DynamoDB applies them, so the reviewed diff
 * is what is written; names and values become placeholders, never expression text.
 */
const DynamoDbUpdateItemParams = z
  .strictObject({
    table: tableName,
    key: itemKey,
    /** SET: each attribute to this value. */
    set: z.record(attributeName, z.unknown()).optional(),
    /** REMOVE: each attribute. */
    remove: z.array(attributeName).max(MAX_ATTRIBUTES).optional(),
    /** ADD: each number attribute incremented by this integer (a missing attribute counts as 0). */
    add: z.record(attributeName, z.number().int().refine(Number.isSafeInteger, 'must be a safe integer')).optional(),
  })
  .superRefine((params, issue) => {
    const names = [...Object.keys(params.set ?? {}), ...(params.remove ?? []), ...Object.keys(params.add ?? {})];
    if (names.length === 0) issue.addIssue({ code: 'custom', message: 'must change at least one attribute (set, remove or add)', path: ['set'] });
    if (names.length > MAX_ATTRIBUTES) issue.addIssue({ code: 'custom', message: `must change at most ${MAX_ATTRIBUTES} attributes`, path: ['set'] });
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) issue.addIssue({ code: 'custom', message: `attribute "${name}" appears in more than one clause (or twice)`, path: ['remove'] });
      seen.add(name);
    }
    if (Buffer.byteLength(JSON.stringify(params.set ?? {})) > MAX_UPDATE_BYTES) {
      issue.addIssue({ code: 'custom', message: `must be at most ${MAX_UPDATE_BYTES} bytes as JSON`, path: ['set'] });
    }
  });
type DynamoDbUpdateItemParams = z.infer<typeof DynamoDbUpdateItemParams>;

interface UpdateItemPlanData extends Record<string, unknown> {
  table: string;
  key: Item;
  update: ItemUpdate;
  previous: Item;
  item: Item;
}

const dataOf = (plan: TaskPlan) => plan.data as UpdateItemPlanData;

/** The item after the update, as DynamoDB computes it (a Map first: an attribute named `__proto__` is just a name). */
function applyUpdate(before: Item, update: ItemUpdate): Item {
  const after = new Map(Object.entries(before));
  for (const [name, value] of Object.entries(update.set ?? {})) after.set(name, value);
  for (const name of update.remove ?? []) after.delete(name);
  for (const [name, value] of Object.entries(update.add ?? {})) after.set(name, ((after.get(name) as number | undefined) ?? 0) + value);
  return Object.fromEntries(after);
}

/** Updates attributes of one existing item; rollback puts the item it read back, if what it wrote is still there. */
export const dynamodbUpdateItem: Action<DynamoDbUpdateItemParams> = {
  name: 'dynamodb.update-item',
  version: '1.0.0',
  description: 'Updates attributes of one DynamoDB item (SET, REMOVE, ADD); plans show the item before and after; rollback restores the item it read.',
  safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: DynamoDbUpdateItemParams,
  // The item's URI needs the table's key schema (I/O) to be canonical, so the declared resource is the table.
  resources: (params) => [{ uri: dynamodbTableUri(params.table), access: 'write' }],
  examples: [
    {
      description: 'Set one attribute, remove another and count the change (rollback restores the item as it was)',
      params: { table: 'maestro-demo', key: { id: 'greeting' }, set: { text: 'hello again' }, remove: ['draft'], add: { revision: 1 } },
      given: ['dynamodb://maestro-demo/{"id":"greeting"}'],
    },
  ],

  async plan(params, ctx) {
    const key = await exactKey(ctx, params.table, params.key);
    const update: ItemUpdate = {
      ...(params.set ? { set: params.set } : {}),
      ...(params.remove ? { remove: params.remove } : {}),
      ...(params.add ? { add: params.add } : {}),
    };
    for (const [clause, names] of [
      ['set', Object.keys(params.set ?? {})],
      ['remove', params.remove ?? []],
      ['add', Object.keys(params.add ?? {})],
    ] as const) {
      const keyAttribute = names.find((name) => Object.hasOwn(key, name));
      if (keyAttribute !== undefined)
        throw new ActionFailed(`${clause} may not change key attribute "${keyAttribute}"`, { field: `${clause}.${keyAttribute}` });
    }
    const resource = dynamodbItemUri(params.table, key);
    const previous = await ctx.items.get(params.table, key);
    if (!previous) throw new ActionFailed(`item ${resource} does not exist (dynamodb.put-item creates items)`, { field: 'key' });
    for (const name of Object.keys(params.add ?? {})) {
      if (Object.hasOwn(previous, name) && typeof previous[name] !== 'number') {
        throw new ActionFailed(`add needs a number, but attribute "${name}" of ${resource} is not one`, { field: `add.${name}` });
      }
    }
    const item = applyUpdate(previous, update);
    const unchanged = sameItem(previous, item);
    const data: UpdateItemPlanData = { table: params.table, key, update, previous, item };
    return {
      summary: unchanged ? `no change to item ${resource}` : `update item ${resource}`,
      change: unchanged ? 'none' : 'update',
      resource,
      diff: unchanged ? '' : renderDiff(resource, stableJson(previous), stableJson(item)),
      preconditions: { previous },
      data,
    };
  },

  async apply(plan, ctx) {
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    // Already what the update makes it: an earlier attempt of this task wrote it (or nothing was to change).
    if (sameItem(current, data.item)) return { written: false, replayed: plan.change !== 'none' };
    if (!sameItem(current, data.previous)) throw new StalePlan(`item ${canonicalJson(data.key)} in ${data.table} changed since it was planned`);
    await ctx.writeGuard?.assertWritable({ kind: 'table', table: data.table });
    // Conditional on the item the plan read, so a write landing between the read and this one is refused.
    await ctx.items.update(data.table, data.key, data.update, data.previous);
    return { written: true };
  },

  async verify(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    if (!sameItem(current, data.item)) throw new VerificationFailed(`item ${canonicalJson(data.key)} in ${data.table} does not read back as updated`);
  },

  async rollback(plan, _outcome, ctx) {
    if (plan.change === 'none') return;
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    // Not what we wrote: apply never wrote, or someone wrote after us. Never overwritten.
    if (!sameItem(current, data.item)) return;
    await ctx.writeGuard?.assertWritable({ kind: 'table', table: data.table });
    try {
      // Conditional on our item still being there.
      await ctx.items.put(data.table, data.previous, data.item);
    } catch (error) {
      if (error instanceof StalePlan) return;
      throw error;
    }
  },
};
