import * as z from 'zod';

const BucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');
const TableName = z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 letters, digits, _ . -)');
const KeyPrefix = z
  .string()
  .min(1)
  .refine((prefix) => Buffer.byteLength(prefix) <= 1024, 'must be at most 1024 bytes');

const FunctionName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be a Lambda function name (1-64 letters, digits, - _)');
const ParameterName = z.string().regex(/^[a-zA-Z0-9_.\-/]{1,1011}$/, 'must be an SSM parameter name, or a path prefix ending in / (letters, digits, _ . - /)');
const AlarmName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\u0000-\u001f]+$/, 'must be a CloudWatch alarm name (1-255 printable characters)');

/** A bucket runs may act on: the whole bucket, or only keys under the listed prefixes. */
const ManagedBucket = z.union([
  BucketName,
  z.strictObject({
    name: BucketName,
    /** Keys must start with one of these. @default the whole bucket */
    prefixes: z.array(KeyPrefix).min(1).optional(),
  }),
]);

/**
 * What actions may touch in one environment, per resource kind. Anything not declared here is
 * refused at the plan gate (ResourceNotManaged) before the action reads it. A later kind adds one key here and one entry to
 * `MANAGED_KINDS` in core/safety/managed-resources.ts.
 */
export const ManagedResources = z.strictObject({
  /** S3 buckets, optionally narrowed to key prefixes. @default none */
  buckets: z.array(ManagedBucket).default([]),
  /** DynamoDB tables, by name (on a stack whose state table is `<prefix>maestro-state`, read with that prefix). @default none */
  tables: z.array(TableName).default([]),
  /** Lambda functions whose aliases runs may move (`lambda.shift-alias`), by name. @default none */
  functions: z.array(FunctionName).default([]),
  /** SSM parameters runs may write, by name (`/app/flag`) or path prefix ending in `/` (`/app/`). @default none */
  parameters: z.array(ParameterName).default([]),
  /** CloudWatch alarms runs may read (the alarms a deploy watches), by name. @default none */
  alarms: z.array(AlarmName).default([]),
});
export type ManagedResources = z.infer<typeof ManagedResources>;

/**
 * Names of Maestro's own resources, by pattern (`*` matches any run of characters): its state table
 * (under any deployment prefix), artifact vault, KMS keys, event bus, outbox queues and functions.
 * No environment may declare them, and the gate refuses them whatever the configuration says.
 */
export const OWN_RESOURCE_PATTERNS: readonly { pattern: string; what: string }[] = [
  { pattern: '*maestro-state', what: "Maestro's state table" },
  { pattern: '*maestro-state-*', what: "a copy of Maestro's state table" },
  { pattern: '*maestro-artifacts', what: "Maestro's artifact vault" },
  { pattern: '*maestro-artifacts-*', what: "Maestro's artifact vault (logs, replicas)" },
  { pattern: 'alias/maestro-*', what: "Maestro's KMS keys" },
  { pattern: 'maestro', what: "Maestro's event bus" },
  { pattern: 'maestro-outbox*', what: "Maestro's outbox queues" },
  { pattern: 'maestro-run-*', what: "Maestro's run workflow functions" },
  { pattern: 'maestro-dr-*', what: "Maestro's DR workflow functions" },
  { pattern: 'maestro-api', what: "Maestro's API function" },
  { pattern: 'maestro-approval-*', what: "Maestro's approval functions" },
  { pattern: 'maestro-executor-*', what: "Maestro's action executors" },
];

const patternRegex = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
const OWN_REGEXES = OWN_RESOURCE_PATTERNS.map((own) => ({ ...own, regex: patternRegex(own.pattern) }));

/** What of Maestro's own a name is, if it is one by pattern; undefined otherwise. */
export function ownResourceByPattern(name: string): string | undefined {
  return OWN_REGEXES.find((own) => own.regex.test(name))?.what;
}

/** The declared names, with the path of each in the environment's `managedResources`. */
export function declaredNames(managed: ManagedResources): { path: (string | number)[]; name: string }[] {
  return [
    ...managed.buckets.map((bucket, index) => ({
      path: ['buckets', index, ...(typeof bucket === 'string' ? [] : ['name'])],
      name: typeof bucket === 'string' ? bucket : bucket.name,
    })),
    ...managed.tables.map((table, index) => ({ path: ['tables', index], name: table })),
    ...managed.functions.map((name, index) => ({ path: ['functions', index], name })),
  ];
}
