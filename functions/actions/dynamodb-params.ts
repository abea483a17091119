import * as z from 'zod';
import { canonicalJson } from '../core/canonical-json.ts';
import { ActionFailed } from '../core/errors.ts';
import type { ActionContext } from '../core/actions/contract.ts';
import type { Item } from '../core/actions/ports.ts';

/** The params and comparisons the DynamoDB item actions share. */

export const tableName = z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 letters, digits, _ . -)');

export const MAX_KEY_BYTES = 2048;

export const itemKey = z
  .record(z.string(), z.unknown())
  .refine((key) => Object.keys(key).length > 0, 'must name the key attributes')
  .refine((key) => Buffer.byteLength(JSON.stringify(key)) <= MAX_KEY_BYTES, `must be at most ${MAX_KEY_BYTES} bytes as JSON`);

export const sameItem = (a: Item | undefined | null, b: Item | undefined | null) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/** The table's key from `key`, refusing a key that lacks one of its attributes or has others besides. */
export async function exactKey(ctx: ActionContext, table: string, key: Item): Promise<Item> {
  const exact = await ctx.items.keyOf(table, key);
  const extra = Object.keys(key).filter((name) => !Object.hasOwn(exact, name));
  if (extra.length > 0) {
    throw new ActionFailed(`key has attributes that are not the key of table ${table}: ${extra.join(', ')}`, { field: `key.${extra[0]}` });
  }
  return exact;
}
