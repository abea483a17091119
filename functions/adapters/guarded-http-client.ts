import { ActionFailed, BudgetExceeded } from '../core/errors.ts';
import { assertEgress } from '../core/egress/check-egress.ts';
import type { EgressDecision, HostResolver } from '../core/egress/check-egress.ts';
import type { EgressPolicy } from '../core/egress/policy.ts';
import { requestPinned, timeBudgetExceeded } from './request-pinned.ts';
import type { PinnedRequest, PinnedResponse } from './request-pinned.ts';

export type { PinnedRequest, PinnedResponse } from './request-pinned.ts';

export interface GuardedFetchOptions {
  policy: EgressPolicy;
  resolve: HostResolver;
  /** The body is cut off and the fetch refused with BudgetExceeded past this many bytes. */
  maxBytes: number;
  /** For the whole fetch, redirects included; past it: BudgetExceeded (time). */
  timeoutMs: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Called before every request (the first and each redirect), after the hop was checked: charge budgets here; throw to stop. */
  beforeRequest?(decision: EgressDecision): void;
}

export interface GuardedHop {
  url: string;
  address: string;
  status: number;
}

export interface GuardedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: string;
  address: string;
  hops: GuardedHop[];
}

/** Sends one pinned request: in process ({@link requestPinned}), or in the embedded stack's sandbox. */
export type PinnedTransport = (decision: EgressDecision, request: PinnedRequest, signal?: AbortSignal) => Promise<PinnedResponse>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET over node:http/https that can only reach what the egress guard allowed. Each hop is checked
 * (scheme, credentials, host, allowlist, port, DNS, addresses) and then connected to the exact address
 * the check resolved, through a `lookup` that returns it: there is no second DNS query, so no
 * rebinding window. Redirects are followed by hand, re-checked, and capped at `policy.maxRedirects`.
 */
export class GuardedHttpClient {
  readonly #transport: PinnedTransport;

  constructor(options: { transport?: PinnedTransport } = {}) {
    this.#transport = options.transport ?? requestPinned;
  }

  async get(rawUrl: string, options: GuardedFetchOptions): Promise<GuardedResponse> {
    const deadline = performance.now() + options.timeoutMs;
    const hops: GuardedHop[] = [];
    let target = rawUrl;
    for (let hop = 0; ; hop += 1) {
      const decision = await assertEgress(target, options.policy, options.resolve, hop === 0 ? 'url' : `redirect[${hop}]`);
      options.beforeRequest?.(decision);
      const remainingMs = Math.floor(deadline - performance.now());
      if (remainingMs <= 0) throw timeBudgetExceeded(options.timeoutMs);
      const response = await this.#transport(decision, { maxBytes: options.maxBytes, timeoutMs: remainingMs, headers: options.headers }, options.signal).catch(
        (error: unknown) => {
          // A hop that ran out of the time left is the whole fetch running out of its budget.
          throw error instanceof BudgetExceeded && error.details?.budget === 'timeMs' ? timeBudgetExceeded(options.timeoutMs) : error;
        },
      );
      hops.push({ url: decision.url!, address: decision.connectTo!.address, status: response.status });
      const location = response.headers.location;
      if (REDIRECTS.has(response.status) && typeof location === 'string') {
        if (hop >= options.policy.maxRedirects) {
          throw new ActionFailed(`too many redirects (more than ${options.policy.maxRedirects}) from ${rawUrl}`, { field: 'url', details: { hops } });
        }
        target = new URL(location, decision.url).href;
        continue;
      }
      return { ...response, url: decision.url!, address: decision.connectTo!.address, hops };
    }
  }
}
