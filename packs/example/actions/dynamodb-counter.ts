import * as z from 'zod';
import { ActionFailed, VerificationFailed, canonicalJson, dynamodbItemUri } from '../../../functions/core/actions/pack-api.ts';
import type { Action, Item, TaskPlan } from '../../../functions/core/actions/pack-api.ts';

const Params = z.strictObject({
  table: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'),
  /** The counter item's full primary key. */
  key: z
    .record(z.string().min(1), z.union([z.string().min(1), z.number()]))
    .refine((key) => Object.keys(key).length >= 1 && Object.keys(key).length <= 2, 'must be the primary key (one or two attributes)'),
  attribute: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/, 'must be an attribute name (letters, digits, _)'),
  by: z.int().min(1).max(1_000_000).default(1),
});
type Params = z.infer<typeof Params>;

interface PlanData extends Record<string, unknown> {
  table: string;
  key: Item;
  attribute: string;
  previous: Item | null;
  next: Item;
}
const dataOf = (plan: TaskPlan) => plan.data as PlanData;
const same = (a: Item | null | undefined, b: Item | null | undefined) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/**
 * Adds `by` to a numeric attribute of one item (creating the item at `by`). Idempotent: the write is
 * conditional on the item the plan read, so a replayed apply finds its own result and writes nothing,
 * and a change made since the plan is a StalePlan. Rollback puts the previous item back.
 */
export const dynamodbCounter: Action<Params> = {
  name: 'example.dynamodb-counter',
  version: '1.0.0',
  description: 'Increments a counter attribute of one DynamoDB item, exactly once per task; rollback restores the previous value.',
  safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: Params,
  resources: (params) => [{ uri: dynamodbItemUri(params.table, params.key), access: 'write' }],
  examples: [
    {
      description: 'Count one more release of the checkout service',
      params: { table: 'maestro-demo', key: { id: 'releases#checkout' }, attribute: 'count', by: 1 },
    },
  ],

  async plan(params, ctx) {
    const key = await ctx.items.keyOf(params.table, params.key);
    if (!same(key, params.key)) throw new ActionFailed(`key must be exactly the table's primary key (${Object.keys(key).join(', ')})`, { field: 'key' });
    const previous = (await ctx.items.get(params.table, key)) ?? null;
    const current = previous?.[params.attribute];
    if (current !== undefined && typeof current !== 'number') {
      throw new ActionFailed(`${params.attribute} of ${canonicalJson(key)} is not a number`, { field: 'attribute' });
    }
    const from = current ?? 0;
    const next: Item = { ...(previous ?? key), [params.attribute]: from + params.by };
    const resource = dynamodbItemUri(params.table, key);
    const data: PlanData = { table: params.table, key, attribute: params.attribute, previous, next };
    return {
      summary: `${params.attribute} of ${resource}: ${from} → ${from + params.by}`,
      change: previous ? 'update' : 'create',
      resource,
      diff: `--- a/${resource}\n+++ b/${resource}\n-${params.attribute}: ${previous ? from : '(no item)'}\n+${params.attribute}: ${from + params.by}\n`,
      preconditions: { previous },
      data,
    };
  },

  async apply(plan, ctx) {
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    // Our own increment, already made (a replay after a crash): nothing more to write.
    if (same(current, data.next)) return { value: data.next[data.attribute], replayed: true };
    await ctx.writeGuard?.assertWritable({ kind: 'table', table: data.table });
    // Refused with StalePlan unless the item is still the one the plan read.
    await ctx.items.put(data.table, data.next, data.previous ?? undefined);
    return { value: data.next[data.attribute] };
  },

  async verify(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    if (!same(current, data.next))
      throw new VerificationFailed(`${data.attribute} of ${canonicalJson(data.key)} in ${data.table} does not read back as incremented`);
  },

  async rollback(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const current = await ctx.items.get(data.table, data.key);
    // Not our increment (never made, or counted on since): nothing of ours to undo.
    if (!same(current, data.next)) return;
    if (data.previous) await ctx.items.put(data.table, data.previous, data.next);
    else await ctx.items.delete(data.table, data.key, data.next);
  },
};
