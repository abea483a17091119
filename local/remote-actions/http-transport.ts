import { isIP } from 'node:net';
import { SsrfBlocked } from '../../functions/core/errors.ts';
import { protocolError } from '../../functions/core/actions/remote-protocol.ts';
import type { RemoteActionTransport } from '../../functions/core/actions/remote-protocol.ts';

/** Loopback only: 127.0.0.0/8, ::1 and `localhost` (which Node resolves to one of them). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * POSTs the request as JSON to the endpoint's URL and returns the body of a 2xx answer (at most the
 * protocol's limit). On the embedded stack the URL must be on loopback (SsrfBlocked otherwise), and
 * redirects are not followed. An error status, a refused connection or the deadline is an
 * ActionProtocolError.
 */
export function httpTransport(): RemoteActionTransport {
  return {
    async invoke(endpoint, request, { signal, timeMs, maxReplyBytes }) {
      if (!('url' in endpoint)) throw protocolError(request, 'unsupported-endpoint', 'the HTTP transport serves url endpoints only');
      const url = new URL(endpoint.url);
      if (!isLoopbackHost(url.hostname)) {
        throw new SsrfBlocked(
          `remote action ${request.action.name}: ${url.origin} is not a loopback address (the embedded stack calls remote actions on this machine only)`,
          {
            details: { url: url.origin },
          },
        );
      }
      const deadline = AbortSignal.timeout(timeMs);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(request),
          redirect: 'manual',
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        });
      } catch (error) {
        if (signal?.aborted && signal.reason instanceof Error) throw signal.reason;
        if (deadline.aborted) throw protocolError(request, 'timeout', `no reply within ${timeMs} ms`, { timeMs });
        throw protocolError(request, 'unreachable', `${url.origin} could not be reached: ${(error as Error).message}`);
      }
      const body = await readBounded(response, maxReplyBytes).catch((error: Error) => {
        if (signal?.aborted && signal.reason instanceof Error) throw signal.reason;
        if (deadline.aborted) throw protocolError(request, 'timeout', `no reply within ${timeMs} ms`, { timeMs });
        throw error;
      });
      if (body === undefined) {
        throw protocolError(request, 'reply-too-large', `the reply passed ${maxReplyBytes} bytes`, { status: response.status });
      }
      if (response.status < 200 || response.status > 299) {
        throw protocolError(request, 'http-status', `${url.origin} answered HTTP ${response.status}`, { status: response.status, body: body.slice(0, 512) });
      }
      return body;
    },
  };
}

/** The body as text, or undefined past `maxBytes` (the rest is not read). */
async function readBounded(response: Response, maxBytes: number): Promise<string | undefined> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
