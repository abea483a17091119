import { ValidationFailed } from '../core/errors.ts';

/** A DynamoDB LastEvaluatedKey as an opaque API cursor. */
export function encodeCursor(lastEvaluatedKey: Record<string, unknown> | undefined): string | undefined {
  return lastEvaluatedKey ? Buffer.from(JSON.stringify(lastEvaluatedKey)).toString('base64url') : undefined;
}

/** The key a cursor stands for; refused (400, field `cursor`) unless it is one of this index partition's. */
export function decodeCursor(cursor: string, gsi1pk: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (key && typeof key === 'object' && (key as Record<string, unknown>).gsi1pk === gsi1pk) return key as Record<string, unknown>;
  } catch {
    // refused below
  }
  throw new ValidationFailed('cursor is not one this API returned', { field: 'cursor' });
}
