import type { EgressDecision, HostResolver } from './check-egress.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { LicenseRegistry } from './license-registry.ts';
import type { EgressPolicy } from './policy.ts';
import type { EgressLimits, RunBudgetLedger } from './run-budget-ledger.ts';

/** A GET that only reaches what the guard allowed (implemented by adapters/guarded-http-client.ts). */
export interface GuardedGetter {
  get(
    url: string,
    options: {
      policy: EgressPolicy;
      resolve: HostResolver;
      maxBytes: number;
      timeoutMs: number;
      headers?: Record<string, string>;
      signal?: AbortSignal;
      beforeRequest?(decision: EgressDecision): void;
    },
  ): Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
    url: string;
    address: string;
    hops: { url: string; address: string; status: number }[];
  }>;
}

/** What an action that reaches the network by URL gets, for the run's environment. */
export interface EgressServices {
  policy: EgressPolicy;
  resolve: HostResolver;
  http: GuardedGetter;
  licenses: LicenseRegistry;
  breaker: CircuitBreaker;
  budgets: RunBudgetLedger;
  limits: EgressLimits;
}
