import { ClientPool } from '../../adapters/aws-clients.ts';
import type { AwsClients, ClientPart } from '../../adapters/aws-clients.ts';
import type { SourceLimiter } from '../../core/approvals/source-limiter.ts';
import type { AuditSealing } from '../../core/audit/ports.ts';
import type { Config } from '../../core/config/schema.ts';
import type { DrDeps } from '../../core/dr/ports.ts';
import type { DriftStore } from '../../core/drift/ports.ts';
import type { TokenVerifier } from '../../core/identity/oidc-principal.ts';
import type { OutboxDeps } from '../../core/outbox/ports.ts';
import type { RunDeps } from '../../core/runs/deps.ts';
import type { SubscriptionDeps } from '../../core/subscriptions/ports.ts';
import type { TriggerDeps } from '../../core/triggers/fire-trigger.ts';
import type { ExecutorHost } from '../run/executor-deps.ts';
import type { EgressRuntime } from './egress.ts';

/** What every handler and API operation gets: the run workflow's deps, and DR's, the outbox's and the audit's. */
export interface HandlerDeps extends RunDeps, TriggerDeps {
  config: Config;
  clients: AwsClients;
  /** Egress guard, licenses, budgets and breaker (http.fetch, POST /egress/check). */
  egress: EgressRuntime;
  dr: DrDeps;
  outbox: OutboxDeps;
  /** The signer and store of audit heads; undefined without an artifact vault (verify then says so). */
  auditSealing: AuditSealing | undefined;
  /** Refused links that did not verify: one log line and one metric per source, at most 5 at once and 6 a minute (per process). */
  unverifiedLinks: SourceLimiter;
  /** Verifies OIDC bearer tokens; undefined when identity.oidc is not configured. */
  tokenVerifier: TokenVerifier | undefined;
  /** Drift findings (functions/core/drift/). */
  drift: DriftStore;
  /** Subscriptions and their signed deliveries (functions/core/subscriptions/). */
  subscriptions: SubscriptionDeps;
}

/** What the host injects besides configuration (the embedded stack's sandbox); unset, everything runs in-process. */
export type HostServices = ExecutorHost;

/** What one composition root builds from: the configuration, the host's services, one pool of SDK clients, and its parts built so far. */
export interface Wiring {
  readonly config: Config;
  readonly host: HostServices;
  readonly pool: ClientPool;
  /** The pool's client (built on first use, then kept). */
  client<Client>(part: ClientPart<Client>): Client;
  /** A part of this root, built on first use and then kept (several ports share one adapter). */
  use<Value>(part: Part<Value>): Value;
}

/** One port (or an adapter several ports share), built from the wiring. */
export type Part<Value> = (wiring: Wiring) => Value;

/** A part for every member of HandlerDeps (functions/handlers/shared/ports.ts). */
export type DepsParts = { [Key in keyof HandlerDeps]: Part<HandlerDeps[Key]> };

export function createWiring(config: Config, host: HostServices = {}, pool: ClientPool = new ClientPool(config.aws)): Wiring {
  const built = new Map<Part<unknown>, unknown>();
  const wiring: Wiring = {
    config,
    host,
    pool,
    client: (part) => pool.use(part),
    use: <Value>(part: Part<Value>) => {
      if (!built.has(part)) built.set(part, part(wiring));
      return built.get(part) as Value;
    },
  };
  return wiring;
}

/**
 * An object whose members are built on first read and then kept (memoized getters, enumerable, so a
 * spread or Object.keys still sees every member): a port that a step never touches is never built.
 */
export function lazyMembers<T extends object>(factories: { [Key in keyof T]: () => T[Key] }): T {
  const object = {} as T;
  for (const key of Object.keys(factories) as (keyof T)[]) {
    let built = false;
    let value: T[keyof T];
    Object.defineProperty(object, key, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (!built) {
          value = factories[key]();
          built = true;
        }
        return value;
      },
      // Tests and hosts replace single ports (`deps.notifier = …`): a write wins over the factory.
      set: (next: T[keyof T]) => {
        value = next;
        built = true;
      },
    });
  }
  return object;
}

/**
 * The deps of one composition root: the members `parts` names, each built on first read. A Lambda
 * function's root names only the ports its handler reaches, so its bundle carries only their
 * adapters and SDK clients; reading any other member throws, naming it and the root (`owner`), and
 * writing one (a test's port) makes it exist. The embedded stack's root names them all (deps.ts).
 */
export function composeDeps(wiring: Wiring, parts: Partial<DepsParts>, owner: string): HandlerDeps {
  const factories: Record<string, () => unknown> = {};
  for (const [key, part] of Object.entries(parts)) factories[key] = () => wiring.use(part as Part<unknown>);
  const deps = lazyMembers(factories) as unknown as HandlerDeps;
  for (const key of ALL_MEMBERS) {
    if (Object.hasOwn(parts, key)) continue;
    Object.defineProperty(deps, key, {
      enumerable: false,
      configurable: true,
      get: () => {
        throw new Error(`deps.${key} is not wired in ${owner} (its composition root builds only the ports its handler uses)`);
      },
      set: (value: unknown) => Object.defineProperty(deps, key, { value, enumerable: true, configurable: true, writable: true }),
    });
  }
  // The catalog is built now: a pack that fails its pin refuses start-up, not the first step that reads it.
  if (Object.hasOwn(parts, 'catalog')) void deps.catalog;
  return deps;
}

/**
 * What a Lambda function's root would give its handler, over deps another root built (the embedded
 * stack's, one for every hosted handler): only the members `parts` names, every other throwing as in
 * the function. So a part a handler reaches but its entry does not name fails the tests, not AWS.
 */
export function depsViewOf(deps: HandlerDeps, parts: Partial<DepsParts>, owner: string): HandlerDeps {
  const members: Record<string, Part<unknown>> = {};
  for (const key of Object.keys(parts)) members[key] = () => deps[key as keyof HandlerDeps];
  const passThrough = { use: (part: Part<unknown>) => part(passThrough as unknown as Wiring) };
  return composeDeps(passThrough as unknown as Wiring, members as Partial<DepsParts>, owner);
}

/** Every member of HandlerDeps, for the unwired getters (the type checks that the list is complete). */
const MEMBERS = {
  config: true,
  clients: true,
  egress: true,
  dr: true,
  outbox: true,
  auditSealing: true,
  unverifiedLinks: true,
  tokenVerifier: true,
  drift: true,
  subscriptions: true,
  runs: true,
  engine: true,
  catalog: true,
  locks: true,
  actionContext: true,
  executor: true,
  applyReads: true,
  quiesceFlags: true,
  clock: true,
  newId: true,
  guardrails: true,
  policy: true,
  control: true,
  rateLimiter: true,
  ownResources: true,
  linkSigner: true,
  linkLedger: true,
  notifier: true,
  publicUrl: true,
  templates: true,
  triggers: true,
  configTriggers: true,
} satisfies { [Key in keyof Required<HandlerDeps>]: true };
const ALL_MEMBERS = Object.keys(MEMBERS) as (keyof HandlerDeps)[];
