import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { ActionFailed, BudgetExceeded } from '../core/errors.ts';
import { assertEgress } from '../core/egress/checkEgress.ts';
import { classifyAddress } from '../core/egress/classifyAddress.ts';
import type { EgressDecision, HostResolver } from '../core/egress/checkEgress.ts';
import type { EgressPolicy } from '../core/egress/policy.ts';

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

/** One request to an address the guard has already checked (plain data, so it can cross into a sandbox). */
export interface PinnedRequest {
  maxBytes: number;
  timeoutMs: number;
  headers?: Record<string, string>;
}
export type PinnedResponse = Pick<GuardedResponse, 'status' | 'headers' | 'body'>;
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
      const response = await this.#transport(decision, { maxBytes: options.maxBytes, timeoutMs: remainingMs, headers: options.headers }, options.signal).catch((error: unknown) => {
        // A hop that ran out of the time left is the whole fetch running out of its budget.
        throw error instanceof BudgetExceeded && error.details?.budget === 'timeMs' ? timeBudgetExceeded(options.timeoutMs) : error;
      });
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

/** One GET to the address in the guard's decision, never another: the `lookup` answers with it. */
export function requestPinned(decision: EgressDecision, request: PinnedRequest, signal?: AbortSignal): Promise<PinnedResponse> {
  const url = new URL(decision.url!);
  const { address, family } = decision.connectTo!;
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  // The one address the guard checked, whatever Node asks for (single or `all`).
  const lookup = ((_host: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (lookupOptions?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
  const send = (url.protocol === 'https:' ? https.request : http.request) as typeof https.request;
  const failure = (error: Error) => (combined.aborted ? abortError(request.timeoutMs, combined) : networkError(decision, error));
  return new Promise((resolvePromise, reject) => {
    if (combined.aborted) return reject(abortError(request.timeoutMs, combined));
    const requestOptions: https.RequestOptions = {
      protocol: url.protocol,
      hostname: decision.host!,
      port: decision.port!,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      lookup,
      family,
      agent: false,
      // SNI and certificate checks use the name, never an IP literal.
      servername: classifyAddress(decision.host!) ? undefined : decision.host,
      headers: { 'user-agent': 'maestro-http-fetch/1.0', accept: '*/*', ...request.headers, host: url.host },
      signal: combined,
    };
    const outgoing = send(requestOptions, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > request.maxBytes) {
        response.destroy();
        return reject(bytesExceeded(declared, request.maxBytes));
      }
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxBytes) {
          response.destroy();
          outgoing.destroy();
          reject(bytesExceeded(size, request.maxBytes));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolvePromise({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', (error) => reject(failure(error)));
    });
    outgoing.on('error', (error) => reject(failure(error)));
    outgoing.end();
  });
}

const bytesExceeded = (size: number, max: number) =>
  new BudgetExceeded(`the response is larger than the byte budget (${size} > ${max} bytes)`, { details: { budget: 'bytes', limit: max } });

const timeBudgetExceeded = (timeoutMs: number) =>
  new BudgetExceeded(`the fetch took longer than its time budget (${timeoutMs} ms)`, { details: { budget: 'timeMs', limit: timeoutMs } });

function abortError(timeoutMs: number, signal: AbortSignal) {
  const reason = signal.reason as Error | undefined;
  if (reason && reason.name !== 'TimeoutError' && reason.name !== 'AbortError') return reason;
  return timeBudgetExceeded(timeoutMs);
}

const networkError = (decision: EgressDecision, error: Error) =>
  new ActionFailed(`fetching ${decision.url} failed: ${(error as { code?: string }).code ?? error.message}`, { cause: error, details: { network: true } });
