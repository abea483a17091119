/**
 * What lets the policy engine validate a request against the schema once per request shape instead of
 * on every call, with the same decisions.
 *
 * Cedar's schema validation of a request (principal, action and resource types, the context's record
 * type, each entity's attributes and parents) depends on types, never on values, as long as the
 * schema has no enumerated entity types and no action groups, and declares only String, Long and
 * Bool attributes (so a JSON string, integer or boolean means the same with or without the schema).
 * A request whose shape (entity types, attribute names and the JSON kind of every value) validated
 * once validates again; Cedar then evaluates it without the schema and without what no policy can
 * observe (context and entity attributes no policy names, the attribute-less role entities), which
 * is about half of its cost. A request of any other shape, or a schema that does not qualify, is
 * validated on every call, as before.
 */
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';

/** What the policies can observe of a request, read from their JSON form. */
export interface Observed {
  /** Every attribute name the policies read (`.name` or `has name`), on any entity or record. */
  attributes: ReadonlySet<string>;
  /** The context is used as a whole value somewhere (not only as `context.name` / `context has name`). */
  wholeContext: boolean;
}

/** The attribute names the policies read; undefined when a policy's JSON form is not what this reads. */
export function observedBy(policies: readonly unknown[]): Observed | undefined {
  const attributes = new Set<string>();
  let contextUses = 0;
  let contextAccesses = 0;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    for (const operator of ['.', 'has']) {
      const access = record[operator] as { left?: unknown; attr?: unknown } | undefined;
      if (access === undefined || access === null || typeof access !== 'object') continue;
      if (typeof access.attr === 'string') attributes.add(access.attr);
      if ((access.left as { Var?: unknown } | undefined)?.Var === 'context') contextAccesses += 1;
    }
    if (record.Var === 'context') contextUses += 1;
    for (const value of Object.values(record)) walk(value);
  };
  for (const policy of policies) {
    if (policy === null || typeof policy !== 'object' || !('effect' in policy)) return undefined;
    walk(policy);
  }
  return { attributes, wholeContext: contextUses > contextAccesses };
}

const PRIMITIVE_TYPES: ReadonlySet<string> = new Set(['String', 'Long', 'Bool', 'Boolean']);

type JsonType = { type?: string; attributes?: Record<string, JsonType>; [key: string]: unknown };
type Namespace = {
  commonTypes?: Record<string, JsonType>;
  entityTypes?: Record<string, { enum?: unknown; memberOfTypes?: string[]; shape?: JsonType; tags?: unknown }>;
  actions?: Record<string, { memberOf?: unknown[]; attributes?: unknown; appliesTo?: { context?: JsonType } }>;
};

/**
 * True when validation depends on the request's shape only (see the file's comment), read from the
 * schema's JSON form with its types resolved (`schemaToJsonWithResolvedTypes`). `attributeless` are
 * the entity types that must declare no attributes and no parents for their entities to be left out.
 */
export function shapeDecidesValidation(schema: Record<string, Namespace>, attributeless: readonly string[]): boolean {
  const resolve = (type: JsonType | undefined): JsonType | undefined => {
    if (type?.type === undefined || type.type === 'Record' || PRIMITIVE_TYPES.has(type.type)) return type;
    const separator = type.type.lastIndexOf('::');
    const namespace = schema[separator < 0 ? '' : type.type.slice(0, separator)];
    return namespace?.commonTypes?.[separator < 0 ? type.type : type.type.slice(separator + 2)];
  };
  const primitiveRecord = (type: JsonType | undefined): boolean => {
    const record = resolve(type);
    if (record === undefined) return type === undefined;
    if (record.type !== 'Record') return false;
    return Object.values(record.attributes ?? {}).every((attribute) => PRIMITIVE_TYPES.has(resolve(attribute)?.type ?? ''));
  };
  for (const [name, namespace] of Object.entries(schema)) {
    for (const [typeName, entityType] of Object.entries(namespace.entityTypes ?? {})) {
      if (entityType.enum !== undefined || entityType.tags !== undefined || !primitiveRecord(entityType.shape)) return false;
      const qualified = name === '' ? typeName : `${name}::${typeName}`;
      if (attributeless.includes(qualified)) {
        if ((entityType.memberOfTypes ?? []).length > 0 || Object.keys(resolve(entityType.shape)?.attributes ?? {}).length > 0) return false;
      }
    }
    for (const action of Object.values(namespace.actions ?? {})) {
      if ((action.memberOf ?? []).length > 0 || action.attributes !== undefined) return false;
      if (!primitiveRecord(action.appliesTo?.context)) return false;
    }
  }
  return true;
}

function kindOf(value: unknown): string | undefined {
  if (typeof value === 'string') return 's';
  if (typeof value === 'boolean') return 'b';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return 'l';
  return undefined;
}

function recordShape(record: Record<string, unknown>): string | undefined {
  let shape = '{';
  for (const key in record) {
    const kind = kindOf(record[key]);
    if (kind === undefined) return undefined;
    shape += `${JSON.stringify(key)}:${kind},`;
  }
  return `${shape}}`;
}

const uidType = (value: CedarWasm.EntityUid): string | undefined => {
  const { type, id } = value as { type: unknown; id: unknown };
  return typeof type === 'string' && typeof id === 'string' ? JSON.stringify(type) : undefined;
};

/** The shape of a request's principal, action, resource and context (shapeOf's first part); undefined as in shapeOf. */
export function headShape(call: {
  principal: CedarWasm.EntityUid;
  action: CedarWasm.EntityUid;
  resource: CedarWasm.EntityUid;
  context: Record<string, unknown>;
}): string | undefined {
  const principal = uidType(call.principal);
  const resource = uidType(call.resource);
  const action = JSON.stringify((call.action as { id: unknown }).id) as string | undefined;
  const context = recordShape(call.context);
  if (principal === undefined || action === undefined || resource === undefined || context === undefined) return undefined;
  return `${principal}|${action}|${resource}|${context}`;
}

/**
 * The shape of a list of entities (shapeOf's second part), so an entity cache can compute it once per
 * entry; undefined as in shapeOf, two entities of the list with one id included. Two lists' shapes
 * join into the shape of both only when no entity of one can share a type with one of the other.
 */
export function entitiesShape(entities: readonly CedarWasm.EntityJson[]): string | undefined {
  let shape = '';
  const seen = new Set<string>();
  for (const entity of entities) {
    const { uid: entityUid, attrs, parents } = entity as { uid: CedarWasm.EntityUid; attrs: Record<string, unknown>; parents: CedarWasm.EntityUid[] };
    const type = uidType(entityUid);
    const attributes = recordShape(attrs);
    if (type === undefined || attributes === undefined) return undefined;
    const id = `${(entityUid as { type: string }).type}\u0000${(entityUid as { id: string }).id}`;
    if (seen.has(id)) return undefined;
    seen.add(id);
    shape += `|${type}${attributes}<`;
    for (const parent of parents) {
      const parentType = uidType(parent);
      if (parentType === undefined) return undefined;
      shape += `${parentType},`;
    }
  }
  return shape;
}

/**
 * The request's shape: entity types, the JSON kind of every id and value, attribute names, parents'
 * types; undefined when something in it is not a string, a safe integer or a boolean, or when two
 * entities share an id (Cedar refuses that): such a request is validated on every call.
 */
export function shapeOf(call: {
  principal: CedarWasm.EntityUid;
  action: CedarWasm.EntityUid;
  resource: CedarWasm.EntityUid;
  context: Record<string, unknown>;
  entities: readonly CedarWasm.EntityJson[];
}): string | undefined {
  const head = headShape(call);
  const entities = entitiesShape(call.entities);
  return head === undefined || entities === undefined ? undefined : head + entities;
}
