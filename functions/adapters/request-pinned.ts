import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { EgressDecision } from '../core/egress/check-egress.ts';
import { classifyAddress } from '../core/egress/classify-address.ts';
import { ActionFailed, BudgetExceeded } from '../core/errors.ts';

/** One request to an address the guard has already checked (plain data, so it can cross into a sandbox). */
export interface PinnedRequest {
  maxBytes: number;
  timeoutMs: number;
  headers?: Record<string, string>;
}

export interface PinnedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
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

export const timeBudgetExceeded = (timeoutMs: number) =>
  new BudgetExceeded(`the fetch took longer than its time budget (${timeoutMs} ms)`, { details: { budget: 'timeMs', limit: timeoutMs } });

function abortError(timeoutMs: number, signal: AbortSignal) {
  const reason = signal.reason as Error | undefined;
  if (reason && reason.name !== 'TimeoutError' && reason.name !== 'AbortError') return reason;
  return timeBudgetExceeded(timeoutMs);
}

const networkError = (decision: EgressDecision, error: Error) =>
  new ActionFailed(`fetching ${decision.url} failed: ${(error as { code?: string }).code ?? error.message}`, { cause: error, details: { network: true } });
