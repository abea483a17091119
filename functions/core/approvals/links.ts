import { randomBytes } from 'node:crypto';
import * as z from 'zod';

/**
 * An approval link's token: `base64url(payload).base64url(mac)`. The payload binds one approver to
 * one run's plan until a deadline; the MAC comes from KMS (GenerateMac with the approval-link key),
 * so only Maestro can mint a link, and a changed byte is a forgery. `nonce` makes each link single-use.
 */
export interface LinkPayload {
  runId: string;
  approver: string;
  planDigest: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  nonce: string;
}

/** The MAC half of the link, from KMS in both AWS and the embedded stack. */
export interface LinkSigner {
  mac(message: Buffer): Promise<Buffer>;
  verify(message: Buffer, mac: Buffer): Promise<boolean>;
}

const Payload = z.strictObject({
  runId: z.string().min(1).max(64),
  approver: z.string().min(1).max(200),
  planDigest: z.string().regex(/^[0-9a-f]{64}$/),
  expiresAt: z.number().int().positive(),
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
});

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

export async function signLink(signer: LinkSigner, payload: LinkPayload): Promise<string> {
  const body = Buffer.from(JSON.stringify(payload));
  return `${body.toString('base64url')}.${(await signer.mac(body)).toString('base64url')}`;
}

export type LinkCheck = { valid: true; payload: LinkPayload } | { valid: false; reason: 'malformed' | 'forged' | 'expired'; payload?: LinkPayload };

/**
 * The bytes of one base64url part, or undefined when the text is not the canonical (unpadded,
 * unique) encoding of them: Node's decoder ignores stray trailing bits, so `AB` and `AC` would
 * otherwise name the same byte, and one link would have many spellings.
 */
export function canonicalBase64url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/**
 * Verifies the MAC first (a forged link tells nothing), then the deadline. Both parts must be the
 * canonical encoding of their bytes (decode, re-encode, compare), so a link has exactly one spelling.
 */
export async function verifyLink(signer: LinkSigner, token: string, now: Date): Promise<LinkCheck> {
  const match = /^([A-Za-z0-9_-]{10,2000})\.([A-Za-z0-9_-]{20,200})$/.exec(token);
  if (!match) return { valid: false, reason: 'malformed' };
  const body = canonicalBase64url(match[1]);
  const mac = canonicalBase64url(match[2]);
  if (!body || !mac) return { valid: false, reason: 'malformed' };
  if (!(await signer.verify(body, mac))) return { valid: false, reason: 'forged' };
  let payload: LinkPayload;
  try {
    payload = Payload.parse(JSON.parse(body.toString('utf8')));
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  if (payload.expiresAt <= now.getTime()) return { valid: false, reason: 'expired', payload };
  return { valid: true, payload };
}
