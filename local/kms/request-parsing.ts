// Turns a JSON request body into typed input, or a KMS-style ValidationException.

import { z } from 'zod';
import { validationError } from './kms-errors.ts';

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A blob member: base64 in JSON, bytes in the handler. */
export function blob(minBytes: number, maxBytes: number) {
  return z
    .string()
    .regex(BASE64_PATTERN, 'Member must be base64-encoded')
    .transform((text) => Buffer.from(text, 'base64'))
    .refine((bytes) => bytes.length >= minBytes && bytes.length <= maxBytes, {
      message: `Member must have length between ${minBytes} and ${maxBytes} bytes`,
    });
}

export const keyIdMember = z.string().min(1).max(2048);

export function parseRequest<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
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

// KMS names members in camelCase inside its validation messages.
function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
