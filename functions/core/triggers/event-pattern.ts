import * as z from 'zod';
import { ValidationFailed } from '../errors.ts';

/**
 * EventBridge event patterns, the subset Maestro's triggers take (the same text becomes a rule in
 * AWS): fields nest as in the event; a leaf is a list of matchers, any of which may match; a matcher
 * is a value (string, number, boolean, null) or `{prefix}`, `{suffix}`, `{anything-but}`,
 * `{exists}` or `{numeric: [op, n, ...]}`. An event field holding a list matches when any item does.
 */
export type EventPattern = { [field: string]: EventPattern | readonly Matcher[] };
type Scalar = string | number | boolean | null;
type Matcher =
  | Scalar
  | { prefix: string }
  | { suffix: string }
  | { 'anything-but': Scalar | readonly Scalar[] | { prefix: string } }
  | { exists: boolean }
  | { numeric: readonly (string | number)[] };

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

/** Checks a pattern's shape; refused naming the field (`pattern.detail.state`). */
export function validateEventPattern(pattern: unknown, field = 'pattern'): EventPattern {
  const walk = (node: unknown, path: string, depth: number): void => {
    if (depth > 10) throw new ValidationFailed(`${path}: nests too deep`, { field: path });
    if (!node || typeof node !== 'object' || Array.isArray(node) || Object.keys(node).length === 0) {
      throw new ValidationFailed(`${path}: must be an object of fields`, { field: path });
    }
    for (const [key, value] of Object.entries(node)) {
      const at = `${path}.${key}`;
      if (Array.isArray(value)) {
        if (value.length === 0 || value.length > 100) throw new ValidationFailed(`${at}: must list 1 to 100 matchers`, { field: at });
        for (const [index, matcher] of value.entries()) checkMatcher(matcher, `${at}[${index}]`);
      } else walk(value, at, depth + 1);
    }
  };
  walk(pattern, field, 0);
  if (JSON.stringify(pattern).length > 4096) throw new ValidationFailed(`${field}: at most 4096 characters`, { field });
  return pattern as EventPattern;
}

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const MatcherSchema = z.union([
  Scalar,
  z.strictObject({ prefix: z.string() }),
  z.strictObject({ suffix: z.string() }),
  z.strictObject({ 'anything-but': z.union([Scalar, z.array(Scalar).min(1), z.strictObject({ prefix: z.string() })]) }),
  z.strictObject({ exists: z.boolean() }),
  z.strictObject({
    numeric: z
      .array(z.union([z.string(), z.number()]))
      .min(2)
      .max(4),
  }),
]);

function checkMatcher(matcher: unknown, path: string): void {
  if (!MatcherSchema.safeParse(matcher).success) {
    throw new ValidationFailed(`${path}: must be a value or one of {prefix}, {suffix}, {anything-but}, {exists}, {numeric}`, { field: path });
  }
  if (matcher && typeof matcher === 'object' && 'numeric' in matcher) {
    const terms = (matcher as { numeric: (string | number)[] }).numeric;
    for (let index = 0; index < terms.length; index += 2) {
      if (!NUMERIC_OPERATORS.has(String(terms[index])) || typeof terms[index + 1] !== 'number') {
        throw new ValidationFailed(`${path}: numeric takes operator/number pairs (<, <=, =, >, >=)`, { field: path });
      }
    }
  }
}

function matchesOne(matcher: Matcher, value: unknown): boolean {
  if (matcher === null || typeof matcher !== 'object') return value === matcher;
  if ('prefix' in matcher) return typeof value === 'string' && value.startsWith(matcher.prefix);
  if ('suffix' in matcher) return typeof value === 'string' && value.endsWith(matcher.suffix);
  if ('anything-but' in matcher) {
    const but = matcher['anything-but'];
    if (value === undefined) return false;
    if (but !== null && typeof but === 'object' && !Array.isArray(but))
      return !(typeof value === 'string' && value.startsWith((but as { prefix: string }).prefix));
    return !(Array.isArray(but) ? but : [but]).includes(value as Scalar);
  }
  if ('numeric' in matcher) {
    if (typeof value !== 'number') return false;
    const terms = matcher.numeric;
    for (let index = 0; index < terms.length; index += 2) {
      const bound = terms[index + 1] as number;
      const ok = { '<': value < bound, '<=': value <= bound, '=': value === bound, '>': value > bound, '>=': value >= bound }[terms[index] as '<'];
      if (!ok) return false;
    }
    return true;
  }
  return false;
}

function matchesLeaf(matchers: readonly Matcher[], value: unknown): boolean {
  const exists = matchers.find((matcher): matcher is { exists: boolean } => matcher !== null && typeof matcher === 'object' && 'exists' in matcher);
  if (exists) return exists.exists === (value !== undefined);
  const values = Array.isArray(value) ? value : [value];
  return values.some((item) => matchers.some((matcher) => matchesOne(matcher, item)));
}

/** Whether an event (as EventBridge delivers it: source, detail-type, detail, ...) matches the pattern. */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    const value = event && typeof event === 'object' && Object.hasOwn(event, key) ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(expected)) {
      if (!matchesLeaf(expected, value)) return false;
    } else if (value === null || typeof value !== 'object' || !matchesEventPattern(expected as EventPattern, value)) {
      // An object pattern against a missing field matches only if everything under it asks for `exists: false`.
      if (value !== undefined || !matchesEventPattern(expected as EventPattern, {})) return false;
    }
  }
  return true;
}
