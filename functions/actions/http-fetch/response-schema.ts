import * as z from 'zod';
import { ValidationFailed } from '../../core/errors.ts';

/** Compiles the JSON Schema a fetch's response must match (zod's JSON Schema reader); a bad schema is a 400. */
export function compileResponseSchema(schema: Record<string, unknown>, field: string): z.ZodType {
  try {
    return z.fromJSONSchema(withRequiredProperties(schema) as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new ValidationFailed(`${field}: not a usable JSON Schema (${(error as Error).message})`, { field });
  }
}

/**
 * zod's reader ignores `required` names that `properties` does not declare; declaring each as `{}`
 * (any value) makes the key itself required, as JSON Schema means it.
 */
function withRequiredProperties(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withRequiredProperties);
  if (node === null || typeof node !== 'object') return node;
  const copy: Record<string, unknown> = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, withRequiredProperties(value)]));
  if (Array.isArray(copy.required)) {
    const properties = { ...((copy.properties as Record<string, unknown> | undefined) ?? {}) };
    for (const name of copy.required)
      if (typeof name === 'string' && !Object.hasOwn(properties, name))
        Object.defineProperty(properties, name, { value: {}, enumerable: true, writable: true, configurable: true });
    copy.properties = properties;
  }
  return copy;
}
