import { randomBytes } from 'node:crypto';
import { z } from 'zod';

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

/** Verifies the MAC first (a forged link tells nothing), then the deadline. */
export async function verifyLink(signer: LinkSigner, token: string, now: Date): Promise<LinkCheck> {
  const match = /^([A-Za-z0-9_-]{10,2000})\.([A-Za-z0-9_-]{20,200})$/.exec(token);
  if (!match) return { valid: false, reason: 'malformed' };
  const body = Buffer.from(match[1], 'base64url');
  if (!(await signer.verify(body, Buffer.from(match[2], 'base64url')))) return { valid: false, reason: 'forged' };
  let payload: LinkPayload;
  try {
    payload = Payload.parse(JSON.parse(body.toString('utf8')));
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  if (payload.expiresAt <= now.getTime()) return { valid: false, reason: 'expired', payload };
  return { valid: true, payload };
}
