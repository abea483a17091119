import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth and `undefined` members dropped, so that equal values
 * always serialize to equal bytes: the basis of plan digests, request hashes and the audit chain.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    // fromEntries defines own properties: a member named `__proto__` is kept (and hashed), never
    // turned into the copy's prototype.
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .flatMap((key) => {
          const member = (value as Record<string, unknown>)[key];
          return member === undefined ? [] : [[key, sortKeys(member)]];
        }),
    );
  }
  return value;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function digestOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
