import { createPublicKey, verify } from 'node:crypto';
import type { Readable } from 'node:stream';
import { canonicalJson } from '../canonical-json.ts';
import { MaestroError } from '../errors.ts';
import { parseSignedManifest } from './manifest.ts';
import { verifyPartBytes } from './part-reader.ts';

export interface OfflineCheck {
  check: string;
  ok: boolean;
  detail: string;
}

/** A public key as an auditor has it: PEM, or the DER (SPKI) that `aws kms get-public-key` returns. */
export function loadPublicKey(bytes: Buffer) {
  const text = bytes.toString('utf8');
  return text.includes('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
}

/**
 * Verifies a downloaded backup with the public key alone: the manifest's digest over its canonical
 * form, the ECDSA P-256 signature of that digest, and every part's size and SHA-256. No AWS access.
 */
export async function verifyOffline(input: {
  manifest: Buffer;
  publicKey: Buffer;
  /** The part's stored bytes as a stream, or undefined when the file is not there. */
  openPart: (key: string, relativeKey: string) => Readable | undefined;
}): Promise<{ ok: boolean; snapshotId?: string; target?: string; checks: OfflineCheck[] }> {
  const checks: OfflineCheck[] = [];
  let signed;
  try {
    signed = parseSignedManifest(input.manifest);
    checks.push({ check: 'manifest-sha256', ok: true, detail: `the manifest hashes to ${signed.sha256}` });
  } catch (error) {
    checks.push({ check: 'manifest-sha256', ok: false, detail: (error as Error).message });
    return { ok: false, checks };
  }
  const raw = JSON.parse(input.manifest.toString('utf8')) as { manifest: unknown };
  const valid = verify('sha256', Buffer.from(canonicalJson(raw.manifest)), { key: loadPublicKey(input.publicKey), dsaEncoding: 'der' }, Buffer.from(signed.signature.value, 'base64'));
  checks.push({ check: 'signature', ok: valid, detail: valid ? `ECDSA_SHA_256 signature by ${signed.signature.keyId} verifies with the public key` : 'the signature does not verify with this public key' });
  for (const part of signed.manifest.parts) {
    const relative = part.key.startsWith(signed.manifest.vault.prefix) ? part.key.slice(signed.manifest.vault.prefix.length) : part.key;
    const body = input.openPart(part.key, relative);
    if (!body) {
      checks.push({ check: `part ${relative}`, ok: false, detail: 'missing' });
      continue;
    }
    try {
      await verifyPartBytes(part, body);
      checks.push({ check: `part ${relative}`, ok: true, detail: `${part.bytes} bytes, sha256 ${part.sha256}` });
    } catch (error) {
      checks.push({ check: `part ${relative}`, ok: false, detail: error instanceof MaestroError ? error.message : String(error) });
    }
  }
  return { ok: checks.every((c) => c.ok), snapshotId: signed.manifest.snapshotId, target: signed.manifest.target, checks };
}
