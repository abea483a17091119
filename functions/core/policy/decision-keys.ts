/**
 * What lets the policy engine reuse a decision for a request the policies cannot tell apart from one
 * Cedar already decided, so a task on a new resource need not cost a Cedar call.
 *
 * It applies only to requests of a shape the schema accepted (validated-shapes.ts): their values are
 * of the declared types, entity attributes are strings, integers or booleans, and the policies passed
 * strict validation, so no attribute access fails. The key keeps the principal (id, attributes,
 * roles), the action and the context attributes the policies read, whole. Of the resource it keeps
 * only what the policies can observe, read from their JSON form:
 *
 * - its uid, unless every policy leaves the resource unconstrained in its scope, names no entity of
 *   the resource's type, and uses the `resource` variable only to read (`.`) or test (`has`) its
 *   attributes: then neither `==`, `in`, `is` nor a literal entity can see which resource it is;
 * - each attribute's value, unless every read of an attribute of that name (on any entity or record)
 *   is the left of a `like` or one side of `==` / `!=` against a string literal: then only the answer
 *   of each such test is kept, computed here as Cedar does (a `like` wildcard matches any sequence of
 *   characters, Unicode scalar values). A value or uid left out must be well-formed UTF-16, as one
 *   with a lone surrogate is not valid JSON to Cedar.
 *
 * Any other use keeps the whole value. The key decides everything the evaluation reads, so two
 * requests with one key have one decision, deciding policies and errors.
 */

/** How the policies can observe the request's resource. */
export interface ResourceObservation {
  /** The resource's uid can be observed (see the file's comment). */
  uid: boolean;
  /** Attributes whose value only literal tests observe, with those tests; any other attribute is kept whole. */
  tests: ReadonlyMap<string, readonly ((value: string) => boolean)[]>;
}

type Use = { kind: 'other' } | { kind: 'read' } | { kind: 'like'; pattern: unknown } | { kind: 'equals'; other: unknown };
const OTHER: Use = { kind: 'other' };
const READ: Use = { kind: 'read' };

/** A `like` pattern (its JSON form: `"Wildcard"` or `{ "Literal": "..." }` elements) as Cedar matches it. */
function likeTest(pattern: unknown): ((value: string) => boolean) | undefined {
  if (!Array.isArray(pattern)) return undefined;
  let source = '';
  for (const element of pattern) {
    if (element === 'Wildcard') source += '.*';
    else if (typeof (element as { Literal?: unknown } | null)?.Literal === 'string') {
      source += (element as { Literal: string }).Literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else return undefined;
  }
  // `u`: `.` is one code point, as a Rust char; `s`: it matches line breaks too.
  const regex = new RegExp(`^${source}$`, 'su');
  return (value) => regex.test(value);
}

/** The string of a `{ "Value": "..." }` literal; undefined for any other expression. */
function stringLiteral(node: unknown): string | undefined {
  const value = (node as { Value?: unknown } | null)?.Value;
  return typeof value === 'string' ? value : undefined;
}

/** What of the resource of type `resourceType` the policies (JSON form, static policies) can observe; undefined if a policy is not what this reads. */
export function resourceObservation(policies: readonly unknown[], resourceType: string): ResourceObservation | undefined {
  let uid = false;
  const tests = new Map<string, ((value: string) => boolean)[]>();
  const whole = new Set<string>();
  const visit = (node: unknown, use: Use): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, OTHER);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    // An entity literal of the resource's type (in a scope, a `Value`, a set): it could name this resource.
    if (record.type === resourceType) uid = true;
    if (record.Var === 'resource' && use.kind !== 'read') uid = true;
    const access = record['.'] as { left?: unknown; attr?: unknown } | undefined;
    if (access !== undefined && access !== null && typeof access === 'object' && typeof access.attr === 'string') {
      const literal = use.kind === 'equals' ? stringLiteral(use.other) : undefined;
      const test = use.kind === 'like' ? likeTest(use.pattern) : literal === undefined ? undefined : (value: string) => value === literal;
      if (test === undefined) whole.add(access.attr);
      else tests.set(access.attr, [...(tests.get(access.attr) ?? []), test]);
      visit(access.left, READ);
      for (const [key, value] of Object.entries(record)) if (key !== '.') visit(value, OTHER);
      return;
    }
    for (const [key, value] of Object.entries(record)) {
      const operands = value as { left?: unknown; right?: unknown; pattern?: unknown } | null;
      if (key === 'has' && operands !== null && typeof operands === 'object') visit(operands.left, READ);
      else if (key === 'like' && operands !== null && typeof operands === 'object') {
        visit(operands.left, { kind: 'like', pattern: operands.pattern });
        visit(operands.pattern, OTHER);
      } else if ((key === '==' || key === '!=') && operands !== null && typeof operands === 'object') {
        visit(operands.left, { kind: 'equals', other: operands.right });
        visit(operands.right, { kind: 'equals', other: operands.left });
      } else visit(value, OTHER);
    }
  };
  for (const policy of policies) {
    if (policy === null || typeof policy !== 'object' || !('effect' in policy)) return undefined;
    if ((policy as { resource?: { op?: unknown } }).resource?.op !== 'All') uid = true;
    visit(policy, OTHER);
  }
  for (const name of whole) tests.delete(name);
  return { uid, tests };
}

/**
 * The resource's part of a decision key: its uid (when observable) and each attribute whole or as the
 * answers of its tests; undefined when a string left out is not well-formed (Cedar is then asked).
 */
export function resourceKey(observation: ResourceObservation, id: string, attrs: Record<string, unknown>): string | undefined {
  let key = '';
  if (observation.uid) key = JSON.stringify(id);
  else if (!id.isWellFormed()) return undefined;
  for (const name in attrs) {
    const value = attrs[name];
    const tests = observation.tests.get(name);
    if (tests === undefined || typeof value !== 'string') key += `|${JSON.stringify(name)}=${JSON.stringify(value)}`;
    else {
      if (!value.isWellFormed()) return undefined;
      key += `|${JSON.stringify(name)}?`;
      for (const test of tests) key += test(value) ? '1' : '0';
    }
  }
  return key;
}
