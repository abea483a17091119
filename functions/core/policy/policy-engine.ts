import { createRequire } from 'node:module';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import { parseResource } from '../actions/resources.ts';
import { resourceKey, resourceObservation } from './decision-keys.ts';
import type { ResourceObservation } from './decision-keys.ts';
import { entitiesShape, headShape, observedBy, shapeDecidesValidation } from './validated-shapes.ts';
import type { Observed } from './validated-shapes.ts';

// The CommonJS build loads its .wasm next to itself (the ESM root export prints a warning on Node).
// Loaded on first use, so a function that imports this module but never decides never compiles the WebAssembly.
let cedarModule: typeof CedarWasm | undefined;
const cedar = new Proxy({} as typeof CedarWasm, {
  get: (_target, name) =>
    (cedarModule ??= createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs') as typeof CedarWasm)[name as keyof typeof CedarWasm],
});

export interface PolicyRequest {
  /** `onBehalfOf` set: an AI agent (`Maestro::Agent`, with that attribute); otherwise a `Maestro::User`. */
  principal: { id: string; roles: readonly string[]; onBehalfOf?: string };
  action: 'plan' | 'apply';
  /** `id` defaults to the URI's id within its kind (core/actions/resources.ts); `access` to `write`. */
  resource: { uri: string; kind: string; id?: string; access?: 'read' | 'write'; bucket?: string; key?: string; table?: string };
  context: {
    catalogAction: string;
    category: string;
    mode: string;
    environment: string;
    autonomy: number;
    reason?: string;
    killSwitch: boolean;
    approved: boolean;
    /** Screening flagged the run's inputs as instruction-like (prompt injection). */
    inputFlagged?: boolean;
    now: Date;
  };
}

export interface PolicyDecision {
  allowed: boolean;
  /** The policy ids that decided: the matching forbids on a deny, the matching permits on an allow. */
  policyIds: string[];
  errors: string[];
}

let nextSetId = 0;

const ACTIONS = {
  plan: { type: 'Maestro::Action', id: 'plan' },
  apply: { type: 'Maestro::Action', id: 'apply' },
} as const;
/** Entries each entity cache keeps before it starts again. */
const ENTITY_CACHE_SIZE = 512;
/** Request shapes remembered as valid before the memory starts again (a deployment has a handful). */
const SHAPE_CACHE_SIZE = 256;
/** Decisions remembered before the memory starts again (decision-keys.ts). */
const DECISION_CACHE_SIZE = 1024;
const ROLE_TYPE = 'Maestro::Role';
const RESOURCE_TYPE = 'Maestro::Resource';

/**
 * Entities as the schema validates them, as Cedar evaluates them once their shape is known to be valid,
 * and the full form's shape (see validated-shapes.ts), computed once per cache entry.
 */
interface EntityForms {
  full: readonly CedarWasm.EntityJson[];
  observed: readonly CedarWasm.EntityJson[];
  shape: string | undefined;
  /** Everything the entities hold, for a decision key (a principal's cache key). */
  key?: string;
}

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const known = cache.get(key);
  if (known !== undefined) return known;
  if (cache.size >= ENTITY_CACHE_SIZE) cache.clear();
  const made = make();
  cache.set(key, made);
  return made;
}

/**
 * Cedar, evaluated in-process with the stateful API (schema and policies parsed once). Policies come
 * in as text; each `@id("...")` annotation becomes the policy's id in decisions.
 */
export class PolicyEngine {
  readonly #policySetId: string;
  readonly #schemaName: string;
  readonly policyIds: readonly string[];
  /** Entities built once and reused while the same principal comes back (bounded). A resource is built each time: every task brings a new one. */
  readonly #principals = new Map<string, EntityForms>();
  /** What the policies read; undefined: every request is validated against the schema (validated-shapes.ts). */
  readonly #observed: Observed | undefined;
  /** Shapes of requests the schema accepted (validated-shapes.ts). */
  readonly #validShapes = new Set<string>();
  /** What the policies can observe of a resource; undefined: no decision is reused (decision-keys.ts). */
  readonly #resourceObservation: ResourceObservation | undefined;
  /** Decisions by everything the policies can observe of their request (decision-keys.ts). */
  readonly #decisions = new Map<string, PolicyDecision>();
  #reused = 0;

  constructor(options: { schema: string; policies: string }) {
    const parts = cedar.policySetTextToParts(options.policies);
    if (parts.type === 'failure') throw new Error(`policies do not parse: ${parts.errors.map((error) => error.message).join('; ')}`);
    const staticPolicies: Record<string, string> = {};
    parts.policies.forEach((text, index) => {
      const id = /@id\("([^"]+)"\)/.exec(text)?.[1] ?? `policy${index}`;
      if (staticPolicies[id]) throw new Error(`two policies have the id "${id}"`);
      staticPolicies[id] = text;
    });
    this.policyIds = Object.keys(staticPolicies);

    nextSetId += 1;
    this.#schemaName = `maestro-schema-${nextSetId}`;
    this.#policySetId = `maestro-policies-${nextSetId}`;
    const schema = cedar.preparseSchema(this.#schemaName, options.schema);
    if (schema.type === 'failure') throw new Error(`the Cedar schema does not parse: ${schema.errors.map((error) => error.message).join('; ')}`);
    const validation = cedar.validate({ schema: options.schema, policies: { staticPolicies } });
    if (validation.type === 'failure') throw new Error(`policies fail validation: ${validation.errors.map((error) => error.message).join('; ')}`);
    if (validation.validationErrors.length > 0) {
      throw new Error(`policies fail validation: ${validation.validationErrors.map((error) => `${error.policyId}: ${error.error.message}`).join('; ')}`);
    }
    const policies = cedar.preparsePolicySet(this.#policySetId, { staticPolicies });
    if (policies.type === 'failure') throw new Error(`policies do not parse: ${policies.errors.map((error) => error.message).join('; ')}`);
    const read = observedPolicies(options.schema, Object.values(staticPolicies));
    this.#observed = read?.observed;
    this.#resourceObservation = read?.resource;
  }

  /** How many request shapes the schema accepted and Cedar now evaluates without validating again. */
  get validatedShapes(): number {
    return this.#validShapes.size;
  }

  /** How many decisions were given from an earlier one the policies cannot tell apart (decision-keys.ts). */
  get reusedDecisions(): number {
    return this.#reused;
  }

  authorize(request: PolicyRequest): PolicyDecision {
    const { resource, context } = request;
    const principalType = request.principal.onBehalfOf === undefined ? 'Maestro::User' : 'Maestro::Agent';
    const principals = this.#principalEntities(principalType, request.principal);
    const resourceEntity = this.#resourceEntity(resource);
    const principalUid = { type: principalType, id: request.principal.id };
    const action = ACTIONS[request.action];
    const resourceUid = { type: RESOURCE_TYPE, id: resource.uri };
    const fullContext: Record<string, CedarWasm.CedarValueJson> = {
      catalogAction: context.catalogAction,
      category: context.category,
      mode: context.mode,
      environment: context.environment,
      autonomy: context.autonomy,
      hasReason: Boolean(context.reason?.trim()),
      reason: context.reason ?? '',
      killSwitch: context.killSwitch,
      approved: context.approved,
      inputFlagged: context.inputFlagged ?? false,
      hourUtc: context.now.getUTCHours(),
    };
    const observed = this.#observed;
    // The shape of the full request: principal and resource entities never share a type, so their lists' shapes join (entitiesShape).
    const head =
      observed && principals.shape !== undefined && resourceEntity.shape !== undefined
        ? headShape({ principal: principalUid, action, resource: resourceUid, context: fullContext })
        : undefined;
    const shape = head === undefined ? undefined : head + principals.shape! + resourceEntity.shape!;
    if (shape !== undefined && this.#validShapes.has(shape)) {
      // A shape the schema accepted before: evaluated on what the policies read, without validating again.
      const observedContext = observed!.wholeContext ? fullContext : observedAttributes(fullContext, observed!.attributes);
      const resourceAttrs = resourceEntity.observed[0].attrs;
      const resourcePart =
        this.#resourceObservation && principals.key !== undefined ? resourceKey(this.#resourceObservation, resource.uri, resourceAttrs) : undefined;
      const key =
        resourcePart === undefined
          ? undefined
          : `${shape}\u0000${principals.key}\u0000${action.id}\u0000${JSON.stringify(observedContext)}\u0000${resourcePart}`;
      const known = key === undefined ? undefined : this.#decisions.get(key);
      if (known !== undefined) {
        this.#reused += 1;
        return { allowed: known.allowed, policyIds: [...known.policyIds], errors: [...known.errors] };
      }
      const answer = cedar.statefulIsAuthorized({
        principal: principalUid,
        action,
        resource: resourceUid,
        context: observedContext,
        entities: [...principals.observed, ...resourceEntity.observed],
        preparsedPolicySetId: this.#policySetId,
      });
      const decision = decisionOf(answer);
      if (key !== undefined && answer.type === 'success') {
        if (this.#decisions.size >= DECISION_CACHE_SIZE) this.#decisions.clear();
        this.#decisions.set(key, { allowed: decision.allowed, policyIds: [...decision.policyIds], errors: [...decision.errors] });
      }
      return decision;
    }
    const answer = cedar.statefulIsAuthorized({
      principal: principalUid,
      action,
      resource: resourceUid,
      context: fullContext,
      entities: [...principals.full, ...resourceEntity.full],
      preparsedPolicySetId: this.#policySetId,
      preparsedSchemaName: this.#schemaName,
      validateRequest: true,
    });
    if (shape !== undefined && answer.type === 'success') {
      if (this.#validShapes.size >= SHAPE_CACHE_SIZE) this.#validShapes.clear();
      this.#validShapes.add(shape);
    }
    return decisionOf(answer);
  }

  #principalEntities(principalType: string, principal: PolicyRequest['principal']): EntityForms {
    const key = JSON.stringify([principalType, principal.id, principal.onBehalfOf ?? null, principal.roles]);
    return remember(this.#principals, key, () => {
      const entity = {
        uid: { type: principalType, id: principal.id },
        attrs: (principal.onBehalfOf === undefined ? {} : { onBehalfOf: principal.onBehalfOf }) as Record<string, string>,
        parents: principal.roles.map((role) => ({ type: ROLE_TYPE, id: role })),
      };
      const full = [entity, ...principal.roles.map((role) => ({ uid: { type: ROLE_TYPE, id: role }, attrs: {}, parents: [] }))];
      return {
        full,
        // Roles have no attributes and no parents (shapeDecidesValidation checks): `principal in Role` reads the principal's parents only.
        observed: [{ ...entity, attrs: this.#observedAttrs(entity.attrs) }],
        shape: this.#observed ? entitiesShape(full) : undefined,
        key,
      };
    });
  }

  #observedAttrs(attrs: Record<string, string>): Record<string, string> {
    return this.#observed ? (observedAttributes(attrs, this.#observed.attributes) as Record<string, string>) : attrs;
  }

  #resourceEntity(resource: PolicyRequest['resource']): EntityForms {
    const attrs: Record<string, string> = {
      kind: resource.kind,
      uri: resource.uri,
      id: resource.id ?? parseResource(resource.uri).id,
      access: resource.access ?? 'write',
    };
    if (resource.bucket !== undefined) attrs.bucket = resource.bucket;
    if (resource.key !== undefined) attrs.key = resource.key;
    if (resource.table !== undefined) attrs.table = resource.table;
    const uid = { type: RESOURCE_TYPE, id: resource.uri };
    const full = [{ uid, attrs, parents: [] }];
    return { full, observed: [{ uid, attrs: this.#observedAttrs(attrs), parents: [] }], shape: this.#observed ? entitiesShape(full) : undefined };
  }
}

/** The record with only the attributes some policy reads. */
function observedAttributes<T>(record: Record<string, T>, attributes: ReadonlySet<string>): Record<string, T> {
  const kept: Record<string, T> = {};
  for (const name in record) if (attributes.has(name)) kept[name] = record[name];
  return kept;
}

/** Cedar's answer as a decision. */
function decisionOf(answer: CedarWasm.AuthorizationAnswer): PolicyDecision {
  if (answer.type === 'failure') {
    // A request the schema refuses is a deny, never an allow.
    return { allowed: false, policyIds: [], errors: answer.errors.map((error) => error.message) };
  }
  return {
    allowed: answer.response.decision === 'allow',
    policyIds: answer.response.diagnostics.reason,
    errors: answer.response.diagnostics.errors.map((error) => `${error.policyId}: ${error.error.message}`),
  };
}

/** What the policies read, when the schema lets a request's shape decide its validation; else undefined. */
function observedPolicies(schema: string, policyTexts: readonly string[]): { observed: Observed; resource: ResourceObservation | undefined } | undefined {
  const resolved = cedar.schemaToJsonWithResolvedTypes(schema);
  if (resolved.type !== 'success') return undefined;
  if (!shapeDecidesValidation(resolved.json as never, [ROLE_TYPE])) return undefined;
  const policies: unknown[] = [];
  for (const text of policyTexts) {
    const json = cedar.policyToJson(text);
    if (json.type !== 'success') return undefined;
    policies.push(json.json);
  }
  const observed = observedBy(policies);
  return observed && { observed, resource: resourceObservation(policies, RESOURCE_TYPE) };
}
