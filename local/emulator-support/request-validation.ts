// Turns a request into typed input with zod, or an AWS-style validation error
// naming each bad member the way AWS does ("Value at 'name' failed to ...").

import type { z } from 'zod';
import { ServiceError } from './service-error.ts';

export type ValidationErrorFactory = (message: string) => Error;

const validationException: ValidationErrorFactory = (message) => new ServiceError('ValidationException', message);

export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  validationError: ValidationErrorFactory = validationException,
): z.output<Schema> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const member = issue.path.length > 0 ? issue.path.map(String).join('.') : 'request';
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    return `Value at '${lowerFirst(member)}' failed to satisfy constraint: ${missing ? 'Member must not be null' : issue.message}`;
  });
  const count = problems.length === 1 ? '1 validation error' : `${problems.length} validation errors`;
  throw validationError(`${count} detected: ${problems.join('; ')}`);
}

// AWS names members in camelCase inside its validation messages.
function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

export function parseJsonObject(body: Buffer, validationError: ValidationErrorFactory = validationException): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw validationError('Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw validationError('Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
