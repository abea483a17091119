import { GuardedHttpClient } from '../../adapters/guarded-http-client.ts';
import type { PinnedTransport } from '../../adapters/guarded-http-client.ts';
import { systemResolver } from '../../adapters/dns-resolver.ts';
import { CircuitBreaker } from '../../core/egress/circuit-breaker.ts';
import { LicenseRegistry } from '../../core/egress/license-registry.ts';
import { RunBudgetLedger } from '../../core/egress/run-budget-ledger.ts';
import { egressPolicyFor } from '../../core/egress/policy.ts';
import type { EgressServices } from '../../core/egress/services.ts';
import type { HandlerConfig } from './config.ts';

/** The egress services of one process: one breaker and one budget ledger, a policy per environment. */
export interface EgressRuntime {
  forEnvironment(environment: string): EgressServices;
}

let transport: PinnedTransport | undefined;

/**
 * How the fetch path sends each (already checked) request. In Lambda, in process: the function is the
 * sandbox. The embedded stack sets its sandbox transport here (local/sandbox/sandboxed-transport.ts)
 * before the handlers build their dependencies; undefined restores the in-process one.
 */
export function useEgressTransport(next: PinnedTransport | undefined): void {
  transport = next;
}

export function createEgressRuntime(config: HandlerConfig['egress']): EgressRuntime {
  const resolve = systemResolver(config.staticHosts);
  const http = new GuardedHttpClient({ transport });
  const licenses = new LicenseRegistry(config.sources);
  const breaker = new CircuitBreaker({ failureThreshold: config.limits.breakerFailures, openMs: config.limits.breakerOpenMs });
  const budgets = new RunBudgetLedger(config.limits);
  return {
    forEnvironment: (environment) => ({ policy: egressPolicyFor(config.allowlists, environment), resolve, http, licenses, breaker, budgets, limits: config.limits }),
  };
}
