import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkEgress } from '../core/egress/check-egress.ts';
import type { EgressDecision, HostResolver } from '../core/egress/check-egress.ts';
import type { EgressPolicy } from '../core/egress/policy.ts';
import { classifyAddress } from '../core/egress/classify-address.ts';
import { ErrorCategory } from '../core/errors.ts';
import type { PublishResult } from '../core/outbox/model.ts';
import type { Subscription } from '../core/subscriptions/model.ts';
import type { DeliverySender } from '../core/subscriptions/ports.ts';

/** How long one delivery may take, connect to last byte. */
const DELIVERY_TIMEOUT_MS = 5_000;
/** The receiver's answer is not needed: at most this much of it is read (for the failure message). */
const MAX_ANSWER_BYTES = 1_024;

const failure = (name: string, message: string, category: ErrorCategory): PublishResult => ({ ok: false, error: { name, message, category } });

/**
 * POSTs subscription deliveries to their URLs, each to an address the egress guard has just allowed
 * (checked again at every delivery, against the subscriptions' destinations, and connected to through a
 * `lookup` that answers with that address only: no DNS rebinding between check and connect). Redirects
 * are not followed. 2xx delivers; 429, 5xx, timeouts and network errors are transient (retried);
 * other answers and refused destinations are final (dead letters).
 */
export class WebhookSender implements DeliverySender {
  readonly #policy: EgressPolicy;
  readonly #resolve: HostResolver;

  constructor(options: { policy: EgressPolicy; resolve: HostResolver }) {
    this.#policy = options.policy;
    this.#resolve = options.resolve;
  }

  async send(subscription: Subscription, request: { body: string; headers: Record<string, string> }): Promise<PublishResult> {
    const decision = await checkEgress(subscription.url, this.#policy, this.#resolve);
    if (!decision.allowed) return failure('SsrfBlocked', `egress refused: ${decision.reason}`, ErrorCategory.policy);
    try {
      const status = await post(decision, request);
      if (status >= 200 && status < 300) return { ok: true };
      const category = status === 429 || status >= 500 ? ErrorCategory.transient : ErrorCategory.dependency;
      return failure('DeliveryRefused', `${decision.host} answered ${status}`, category);
    } catch (error) {
      return failure(
        'DeliveryFailed',
        `delivering to ${decision.host} failed: ${(error as { code?: string }).code ?? (error as Error).message}`,
        ErrorCategory.transient,
      );
    }
  }
}

function post(decision: EgressDecision, request: { body: string; headers: Record<string, string> }): Promise<number> {
  const url = new URL(decision.url!);
  const { address, family } = decision.connectTo!;
  const lookup = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
  const send = (url.protocol === 'https:' ? https.request : http.request) as typeof https.request;
  const body = Buffer.from(request.body);
  return new Promise((resolve, reject) => {
    const outgoing = send(
      {
        protocol: url.protocol,
        hostname: decision.host!,
        port: decision.port!,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        lookup,
        family,
        agent: false,
        servername: classifyAddress(decision.host!) ? undefined : decision.host,
        headers: { 'user-agent': 'maestro-subscriptions/1.0', ...request.headers, 'content-length': String(body.length), host: url.host },
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) response.destroy();
        });
        response.on('close', () => resolve(response.statusCode ?? 0));
        response.on('error', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
