import * as z from 'zod';
import { DrTargetNotFound } from '../errors.ts';

const TableName = z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a DynamoDB table name');
const BucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');

/** One S3 prefix of a target ('' = the whole bucket). */
export const DrPrefix = z.strictObject({
  bucket: BucketName.describe('The bucket.'),
  prefix: z.string().max(512).default('').describe("The key prefix ('' = the whole bucket)."),
});
export type DrPrefix = z.infer<typeof DrPrefix>;

/** A user-declared smoke test, run on every restored copy: an item that must be there (with these attributes), or an object (containing this text). */
export const DrCheck = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('item'),
    name: z.string().min(1).max(100),
    table: TableName,
    key: z.record(z.string(), z.union([z.string(), z.number()])),
    expect: z.record(z.string(), z.unknown()).default({}),
  }),
  z.strictObject({ kind: z.literal('object'), name: z.string().min(1).max(100), bucket: BucketName, key: z.string().min(1), contains: z.string().optional() }),
]);
export type DrCheck = z.infer<typeof DrCheck>;

/** What a DR target protects: DynamoDB tables and S3 prefixes, plus the snapshot limits. */
export const DrTarget = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits, hyphens')
      .describe("The target's name (1-63 lowercase letters, digits, hyphens)."),
    /** The environment whose guardrails and approvers decide whether a restore's flip needs a human. */
    environment: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,31}$/)
      .default('dev')
      .describe("The environment whose guardrails and approvers decide whether a restore's flip needs a human."),
    tables: z.array(TableName).default([]).describe('DynamoDB tables the target protects.'),
    prefixes: z.array(DrPrefix).default([]).describe("S3 prefixes the target protects (`{bucket, prefix}`, prefix '' = the whole bucket)."),
    /** Longest time writers are held off while the snapshot runs. */
    maxQuiesceSeconds: z.number().int().min(1).max(3600).default(600).describe('Longest time writers are held off while the snapshot runs.'),
    /** A part is closed once it holds this many bytes (before compression). */
    partBytes: z
      .number()
      .int()
      .min(1024)
      .max(512 * 1024 * 1024)
      .default(8 * 1024 * 1024)
      .describe('A part is closed once it holds this many bytes (before compression).'),
    compression: z
      .enum(['gzip', 'none', 'auto'])
      .default('gzip')
      .describe(
        "How parts are stored: `gzip` (the default), `none`, or `auto`, chosen per part (each part's first 64 KiB is deflated at level 1: a part whose sample shrinks by less than 30 % is high-entropy data (already compressed or encrypted bodies, whose base64 is all gzip could save) and is stored as is; the rest is gzipped).",
      ),
    /** Backups on this EventBridge Scheduler expression (`rate(1 day)`, `cron(...)`). */
    backupSchedule: z.string().min(1).optional().describe('Backups on this EventBridge Scheduler expression (`rate(1 day)`, `cron(...)`).'),
    /** Scheduled restore tests (isolated copy, smoke tests, signed evidence, never the pointer). */
    restoreTestSchedule: z.string().min(1).optional().describe('Scheduled restore tests (isolated copy, smoke tests, signed evidence, never the pointer).'),
    /** User-declared smoke tests, on top of counts, content digests and sample reads. */
    checks: z
      .array(DrCheck)
      .default([])
      .describe(
        'User-declared smoke tests (`{kind: item, name, table, key, expect}` or `{kind: object, name, bucket, key, contains}`), on top of counts, content digests and sample reads.',
      ),
  })
  .refine((target) => target.tables.length + target.prefixes.length > 0, 'must protect at least one table or prefix');
export type DrTarget = z.infer<typeof DrTarget>;

export const DrTargets = z.array(DrTarget).refine((targets) => new Set(targets.map((t) => t.name)).size === targets.length, 'target names must be unique');

/** The demo target, over the demo table and bucket, so a new user can try DR at once: the default when none are declared. */
export function defaultDrTargets(demo: { table: string; bucket: string }): DrTarget[] {
  return DrTargets.parse([{ name: 'demo', tables: [demo.table], prefixes: [{ bucket: demo.bucket, prefix: '' }] }]);
}

/** The configured targets (`dr.targets`), else the demo target over `targets.demoTable` and `targets.demoBucket`. */
export function configuredDrTargets(config: { dr: { targets?: readonly DrTarget[] }; targets: { demoTable: string; demoBucket: string } }): DrTarget[] {
  return config.dr.targets ? [...config.dr.targets] : defaultDrTargets({ table: config.targets.demoTable, bucket: config.targets.demoBucket });
}

export function findTarget(targets: readonly DrTarget[], name: string): DrTarget {
  const target = targets.find((t) => t.name === name);
  if (!target) throw new DrTargetNotFound(`no DR target named ${name}; known: ${targets.map((t) => t.name).join(', ') || 'none'}`, { field: 'target' });
  return target;
}
