import { GuardedHttpClient } from '../../adapters/guarded-http-client.ts';
import type { PinnedTransport } from '../../adapters/guarded-http-client.ts';
import { systemResolver } from '../../adapters/dns-resolver.ts';
import { CircuitBreaker } from '../../core/egress/circuit-breaker.ts';
import { LicenseRegistry } from '../../core/egress/license-registry.ts';
import { RunBudgetLedger } from '../../core/egress/run-budget-ledger.ts';
import { egressPolicyFor } from '../../core/egress/policy.ts';
import type { EgressServices } from '../../core/egress/services.ts';
import type { Config } from '../../core/config/schema.ts';

/** The egress services of one process: one breaker and one budget ledger, a policy per environment. */
export interface EgressRuntime {
  forEnvironment(environment: string): EgressServices;
}

/**
 * The egress services from the egress section. `transport` is how the fetch path sends each (already
 * checked) request: in process by default (in Lambda the function is the sandbox); the embedded stack
 * passes its sandbox transport (local/sandbox/sandboxed-transport.ts).
 */
export function createEgressRuntime(config: Config['egress'], transport?: PinnedTransport): EgressRuntime {
  const resolve = systemResolver(config.staticHosts);
  const http = new GuardedHttpClient({ transport });
  const licenses = new LicenseRegistry(config.sources);
  const breaker = new CircuitBreaker({ failureThreshold: config.limits.breakerFailures, openMs: config.limits.breakerOpenMs });
  const budgets = new RunBudgetLedger(config.limits);
  return {
    forEnvironment: (environment) => ({
      policy: egressPolicyFor(config.allowlists, environment),
      resolve,
      http,
      licenses,
      breaker,
      budgets,
      limits: config.limits,
    }),
  };
}

/**
 * The egress runtime of a process from the whole configuration: the guardrails' per-environment
 * allowlists, each replaced by `egress.allowlists` (MAESTRO_EGRESS_ALLOWLIST) where that names it.
 */
export function egressRuntimeOf(config: Config, transport?: PinnedTransport): EgressRuntime {
  const fromGuardrails = Object.fromEntries(
    Object.entries(config.guardrails.environments).flatMap(([name, environment]) => (environment.egress ? [[name, environment.egress]] : [])),
  );
  return createEgressRuntime({ ...config.egress, allowlists: { ...fromGuardrails, ...config.egress.allowlists } }, transport);
}
