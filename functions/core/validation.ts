import type { z } from 'zod';
import { ValidationFailed } from './errors.ts';

/** `tasks[0].params.bucket` from zod's path segments, under an optional prefix. */
export function fieldPath(path: readonly PropertyKey[], prefix = ''): string {
  let field = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') field += `[${segment}]`;
    else field += field === '' ? String(segment) : `.${String(segment)}`;
  }
  return field;
}

/** One zod issue as `a.b.0.c: message` (the message alone at the root): the one format of configuration errors. */
export function formatIssue(issue: Pick<z.core.$ZodIssue, 'path' | 'message'>): string {
  return issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message;
}

/** Every issue of a failed parse, `; `-separated. */
export function formatIssues(issues: readonly Pick<z.core.$ZodIssue, 'path' | 'message'>[]): string {
  return issues.map(formatIssue).join('; ');
}

/** Parses with a zod schema; on failure, a ValidationFailed that names the first bad field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, prefix = ''): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const field = fieldPath(issue.path, prefix);
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => fieldPath([key], field)) : [];
    return { field: unknownKeys[0] ?? field, message: issue.message };
  });
  const first = issues[0];
  const message = issues.map((issue) => (issue.field ? `${issue.field}: ${issue.message}` : issue.message)).join('; ');
  throw new ValidationFailed(message, { field: first?.field || undefined, details: { issues } });
}
