import { createRequire } from 'node:module';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import { parseResource } from '../actions/resources.ts';

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
  /** Entities built once and reused while the same principal or resource comes back (bounded). */
  readonly #principals = new Map<string, readonly CedarWasm.EntityJson[]>();
  readonly #resources = new Map<string, CedarWasm.EntityJson>();

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
  }

  authorize(request: PolicyRequest): PolicyDecision {
    const { resource, context } = request;
    const principalType = request.principal.onBehalfOf === undefined ? 'Maestro::User' : 'Maestro::Agent';
    const answer = cedar.statefulIsAuthorized({
      principal: { type: principalType, id: request.principal.id },
      action: ACTIONS[request.action],
      resource: { type: 'Maestro::Resource', id: resource.uri },
      context: {
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
      },
      entities: [...this.#principalEntities(principalType, request.principal), this.#resourceEntity(resource)],
      preparsedSchemaName: this.#schemaName,
      validateRequest: true,
      preparsedPolicySetId: this.#policySetId,
    });
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

  #principalEntities(principalType: string, principal: PolicyRequest['principal']): readonly CedarWasm.EntityJson[] {
    const key = JSON.stringify([principalType, principal.id, principal.onBehalfOf ?? null, principal.roles]);
    return remember(this.#principals, key, () => [
      {
        uid: { type: principalType, id: principal.id },
        attrs: (principal.onBehalfOf === undefined ? {} : { onBehalfOf: principal.onBehalfOf }) as Record<string, string>,
        parents: principal.roles.map((role) => ({ type: 'Maestro::Role', id: role })),
      },
      ...principal.roles.map((role) => ({ uid: { type: 'Maestro::Role', id: role }, attrs: {}, parents: [] })),
    ]);
  }

  #resourceEntity(resource: PolicyRequest['resource']): CedarWasm.EntityJson {
    const key = JSON.stringify([
      resource.uri,
      resource.kind,
      resource.id ?? null,
      resource.access ?? null,
      resource.bucket ?? null,
      resource.key ?? null,
      resource.table ?? null,
    ]);
    return remember(this.#resources, key, () => {
      const attrs: Record<string, string> = {
        kind: resource.kind,
        uri: resource.uri,
        id: resource.id ?? parseResource(resource.uri).id,
        access: resource.access ?? 'write',
      };
      for (const name of ['bucket', 'key', 'table'] as const) if (resource[name] !== undefined) attrs[name] = resource[name]!;
      return { uid: { type: 'Maestro::Resource', id: resource.uri }, attrs, parents: [] };
    });
  }
}
