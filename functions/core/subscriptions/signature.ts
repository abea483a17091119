import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries the signature, GitHub-style: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const SIGNATURE_HEADER = 'x-maestro-signature-256';
/** The message id, what receivers dedupe on (also `id` in a URL delivery's body). */
export const EVENT_ID_HEADER = 'x-maestro-event-id';
export const EVENT_TYPE_HEADER = 'x-maestro-event-type';
export const SUBSCRIPTION_HEADER = 'x-maestro-subscription-id';

export const signatureOf = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** What a receiver does: recompute over the raw body and compare in constant time. */
export function verifySignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signatureOf(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
