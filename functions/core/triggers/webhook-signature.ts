import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRefused } from '../errors.ts';

/** How far a webhook's signed timestamp may be from now, by default. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

/** `sha256=<hex>`: GitHub's `X-Hub-Signature-256`, an HMAC-SHA-256 of the raw body under the shared secret. */
export function webhookSignature(secret: string, rawBody: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** The timestamp at a dotted path of the (signed) body: unix seconds or an ISO 8601 date-time; undefined when absent or unreadable. */
function timestampAt(body: unknown, path: string): number | undefined {
  let node = body;
  for (const segment of path.split('.')) {
    if (!node || typeof node !== 'object' || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  if (typeof node === 'number' && Number.isFinite(node)) return node * 1000;
  if (typeof node === 'string') {
    const time = /^\d{9,11}$/.test(node) ? Number(node) * 1000 : Date.parse(node);
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}

/**
 * Checks a webhook delivery: the signature over the raw body (compared in constant time), then the
 * timestamp the body carries at `timestampField` (inside what is signed, so it cannot be moved
 * forward) within `toleranceSeconds` of now. Refused with WebhookRefused (401) naming what failed;
 * the body is parsed only after the signature holds.
 */
export function verifyWebhook(input: {
  secret: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestampField: string;
  toleranceSeconds: number;
  now: Date;
}): { body: unknown; timestamp: number } {
  if (!input.signature) throw new WebhookRefused('send X-Hub-Signature-256: sha256=<HMAC-SHA-256 of the body>', { field: 'X-Hub-Signature-256' });
  const expected = Buffer.from(webhookSignature(input.secret, input.rawBody));
  const given = Buffer.from(input.signature.trim());
  // timingSafeEqual needs equal lengths: a signature of another length is refused without comparing.
  const same = given.length === expected.length && timingSafeEqual(given, expected);
  if (!same) throw new WebhookRefused('the signature does not match the body', { field: 'X-Hub-Signature-256' });
  let body: unknown;
  try {
    body = JSON.parse(input.rawBody.toString('utf8'));
  } catch {
    throw new WebhookRefused('the signed body is not JSON', { field: 'body' });
  }
  const timestamp = timestampAt(body, input.timestampField);
  if (timestamp === undefined) throw new WebhookRefused(`the body carries no timestamp at ${input.timestampField}`, { field: `body.${input.timestampField}` });
  if (Math.abs(input.now.getTime() - timestamp) > input.toleranceSeconds * 1000) {
    throw new WebhookRefused(`the timestamp is more than ${input.toleranceSeconds} s away from now`, { field: `body.${input.timestampField}` });
  }
  return { body, timestamp };
}
