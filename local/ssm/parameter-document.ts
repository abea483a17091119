// What the SSM stand-in keeps per parameter: every version still held, with
// its labels. Dates are ISO strings on disk.

import { z } from 'zod';

export const PARAMETER_TYPES = ['String', 'StringList', 'SecureString'] as const;
export const PARAMETER_TIERS = ['Standard', 'Advanced', 'Intelligent-Tiering'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

const FORMAT_VERSION = 1;

const parameterVersionSchema = z.object({
  version: z.number().int().min(1),
  type: z.enum(PARAMETER_TYPES),
  value: z.string(),
  description: z.string().optional(),
  keyId: z.string().optional(),
  allowedPattern: z.string().optional(),
  tier: z.enum(['Standard', 'Advanced']),
  dataType: z.string(),
  lastModifiedDate: z.iso.datetime(),
  labels: z.array(z.string()),
});

export const parameterDocumentSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  name: z.string().min(1),
  /** Ascending by version; the last one is the current value. */
  versions: z.array(parameterVersionSchema).min(1),
});

export type ParameterVersion = z.infer<typeof parameterVersionSchema>;
export type ParameterDocument = z.infer<typeof parameterDocumentSchema>;

export function newParameterDocument(name: string, first: ParameterVersion): ParameterDocument {
  return { formatVersion: FORMAT_VERSION, name, versions: [first] };
}

export function currentVersion(document: ParameterDocument): ParameterVersion {
  return document.versions[document.versions.length - 1];
}
