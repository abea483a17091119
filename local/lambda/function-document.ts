// What the Lambda stand-in keeps per function: the $LATEST configuration, the
// published versions (immutable snapshots) and the aliases. No code is kept:
// only its SHA-256 and size, as metadata.

import { z } from 'zod';

const FORMAT_VERSION = 1;

const codeLocationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('zip') }),
  z.object({ kind: z.literal('s3'), bucket: z.string(), key: z.string(), objectVersion: z.string().optional() }),
  z.object({ kind: z.literal('image'), imageUri: z.string() }),
]);

const configurationSchema = z.object({
  runtime: z.string().optional(),
  role: z.string(),
  handler: z.string().optional(),
  description: z.string(),
  timeout: z.number().int(),
  memorySize: z.number().int(),
  environment: z.record(z.string(), z.string()).optional(),
  packageType: z.enum(['Zip', 'Image']),
  architectures: z.array(z.enum(['x86_64', 'arm64'])),
  codeSha256: z.string(),
  codeSize: z.number().int().min(0),
  codeLocation: codeLocationSchema,
  lastModified: z.iso.datetime(),
  revisionId: z.string(),
});

const versionSchema = configurationSchema.extend({ version: z.string().regex(/^\d+$/) });

const aliasSchema = z.object({
  name: z.string(),
  functionVersion: z.string(),
  description: z.string(),
  /** Additional version → weight (0..1) of the traffic it takes from the primary. */
  additionalVersionWeights: z.record(z.string(), z.number()),
  revisionId: z.string(),
});

export const functionDocumentSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  name: z.string().min(1),
  latest: configurationSchema,
  /** Ascending; numbers are never reused. */
  versions: z.array(versionSchema),
  lastVersionNumber: z.number().int().min(0),
  /** Sorted by name. */
  aliases: z.array(aliasSchema),
});

export type CodeLocation = z.infer<typeof codeLocationSchema>;
export type FunctionConfiguration = z.infer<typeof configurationSchema>;
export type PublishedVersion = z.infer<typeof versionSchema>;
export type FunctionAlias = z.infer<typeof aliasSchema>;
export type FunctionDocument = z.infer<typeof functionDocumentSchema>;

export function newFunctionDocument(name: string, latest: FunctionConfiguration): FunctionDocument {
  return { formatVersion: FORMAT_VERSION, name, latest, versions: [], lastVersionNumber: 0, aliases: [] };
}

/** What makes a version differ from another: code and settings, not the description or revision. */
export function publishableState(configuration: FunctionConfiguration | PublishedVersion): string {
  const state: Record<string, unknown> = { ...configuration };
  for (const key of ['description', 'lastModified', 'revisionId', 'version']) delete state[key];
  return canonicalJson(state);
}

// Key order differs between a document read back by zod and one built in code.
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
