import { CircuitBreaker } from '../../functions/core/egress/circuit-breaker.ts';
import type { EgressDecision } from '../../functions/core/egress/check-egress.ts';
import { LicenseRegistry } from '../../functions/core/egress/license-registry.ts';
import type { LicenseSource } from '../../functions/core/egress/license-registry.ts';
import { egressPolicyFor } from '../../functions/core/egress/policy.ts';
import { EgressLimits, RunBudgetLedger } from '../../functions/core/egress/run-budget-ledger.ts';
import type { GuardedGetter } from '../../functions/core/egress/services.ts';
import type { CommandSink, OpenedKind } from './types.ts';

/** The address every prepared host resolves to: public, so the guard's address rules pass; nothing ever connects to it. */
const FIXTURE_ADDRESS = '93.184.215.14';

/**
 * URLs (http.fetch): the egress services of an environment whose allowlist and license registry hold
 * exactly the prepared URLs, over a getter that answers from a fixture (a JSON object for `.json`
 * paths, plain text otherwise) and records each GET. No socket is opened. A URL has no state the kit
 * could change, so it is never perturbed: a read cannot go stale.
 */
export function openUrls(_services: unknown, record: CommandSink): OpenedKind {
  const hosts = new Set<string>();
  const sources = new Map<string, LicenseSource>();
  const limits = EgressLimits.parse({});
  const breaker = new CircuitBreaker({ failureThreshold: limits.breakerFailures, openMs: limits.breakerOpenMs });
  let budgets = new RunBudgetLedger(limits);
  const http: GuardedGetter = {
    async get(url, options) {
      options.beforeRequest?.({ allowed: true, rule: 'allowed', reason: 'fixture', url, resolvedAddresses: [FIXTURE_ADDRESS] } as EgressDecision);
      record('url', 'GET', { url });
      const json = new URL(url).pathname.endsWith('.json');
      const body = Buffer.from(json ? '{"status":"ok"}' : 'a fixture answer of the conformance kit\n');
      return { status: 200, headers: { 'content-type': json ? 'application/json' : 'text/plain' }, body, url, address: FIXTURE_ADDRESS, hops: [] };
    },
  };
  return {
    context: () => ({
      egress: {
        policy: egressPolicyFor({ conformance: [...hosts] }, 'conformance'),
        resolve: async () => [FIXTURE_ADDRESS],
        http,
        licenses: new LicenseRegistry([...sources.values()]),
        breaker,
        budgets,
        limits,
      },
    }),
    async prepare(resource) {
      const url = new URL(resource.uri);
      hosts.add(url.hostname);
      sources.set(url.origin, { id: 'conformance-fixture', urlPrefix: `${url.origin}/`, license: 'CC0-1.0', automatedAccess: true });
      // Each check starts with the run's budgets unspent.
      budgets = new RunBudgetLedger(limits);
    },
    snapshot: async () => ({ state: null, history: null }),
    perturb: async () => false,
    destroy() {},
  };
}
