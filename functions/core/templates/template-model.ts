import * as z from 'zod';
import { MAX_TASKS_PER_RUN } from '../runs/create-run.ts';

/** A template's name: also a path segment (`/templates/{name}`) and a file name (`templates/<name>.yaml`). */
export const TemplateName = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lowercase name (letters, digits, -), at most 64 characters');
const ParamName = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/, 'must be a parameter name (letters, digits, _)');

/**
 * One parameter, typed by a small JSON Schema: a scalar only, so a value can never bring structure
 * (an object or array) into the run it is substituted into.
 */
export const ParamSchema = z
  .strictObject({
    type: z.enum(['string', 'integer', 'number', 'boolean']),
    description: z.string().max(500).optional(),
    enum: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .max(100)
      .optional(),
    pattern: z.string().max(500).optional(),
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(1).max(10_000).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  })
  .superRefine((schema, ctx) => {
    if (schema.pattern !== undefined) {
      try {
        new RegExp(schema.pattern, 'u');
      } catch {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'must be a regular expression' });
      }
    }
  });
export type ParamSchema = z.infer<typeof ParamSchema>;

/** What a template declares: a run request whose values may hold `{{param}}` placeholders. */
export const TemplateDefinition = z.strictObject({
  name: TemplateName,
  description: z.string().max(1000).optional(),
  goal: z.string().trim().min(1).max(500),
  mode: z.enum(['PLAN', 'APPLY']),
  environment: z.string().min(1).max(32).optional(),
  autonomy: z.number().int().min(0).max(3).optional(),
  reasonForAccess: z.string().trim().min(1).max(1000).optional(),
  params: z.record(ParamName, ParamSchema).default({}),
  tasks: z
    .array(z.strictObject({ action: z.string().min(1).max(100), params: z.record(z.string(), z.unknown()).default({}) }))
    .min(1)
    .max(MAX_TASKS_PER_RUN),
});
export type TemplateDefinition = z.infer<typeof TemplateDefinition>;

/** A stored version of a template: immutable once written. */
export interface TemplateVersion {
  definition: TemplateDefinition;
  version: number;
  /** sha256 of the canonical definition: pushing the same content again makes no new version. */
  digest: string;
  createdBy: string;
  createdAt: string;
}

/** Where template versions live (the state table), each change with an audit event in the template's journal. */
export interface TemplateStore {
  /** Records `definition` as the next version, unless it equals the latest (then `created` is false). */
  put(input: {
    definition: TemplateDefinition;
    digest: string;
    actor: string;
    correlationId: string;
    now: Date;
  }): Promise<{ version: TemplateVersion; created: boolean }>;
  /** A version (the latest when `version` is omitted). */
  get(name: string, version?: number): Promise<TemplateVersion | undefined>;
  /** The latest version of every template. */
  list(): Promise<TemplateVersion[]>;
  /** The template's audit journal (hash-chained like a run's events). */
  listEvents(name: string): Promise<import('../runs/model.ts').RunEvent[]>;
}
