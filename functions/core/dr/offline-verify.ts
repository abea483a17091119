import { createPublicKey, verify } from 'node:crypto';
import type { Readable } from 'node:stream';
import { canonicalJson } from '../canonical-json.ts';
import { MaestroError } from '../errors.ts';
import { parseSignedManifest } from './manifest.ts';
import type { ManifestPart } from './manifest.ts';
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
 * A part's key relative to the manifest's folder, or why it is refused: a key outside the vault
 * prefix, absolute, with a backslash, a NUL, an empty, `.` or `..` segment would name a file outside
 * the downloaded backup.
 */
export function relativePartKey(key: string, vaultPrefix: string): { relative: string } | { refused: string } {
  if (!key.startsWith(vaultPrefix)) return { refused: `the key is outside the manifest's folder ${vaultPrefix}` };
  const relative = key.slice(vaultPrefix.length);
  if (relative.length === 0 || relative.startsWith('/')) return { refused: 'the key is absolute or empty' };
  if (/[\\\0]/.test(relative)) return { refused: 'the key has a backslash or a NUL' };
  if (relative.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) return { refused: 'the key has an empty, . or .. segment' };
  return { relative };
}

/**
 * Verifies a downloaded backup with the public key alone: the manifest's digest over its canonical
 * form, the ECDSA P-256 signature of that digest, and every part's size and SHA-256. No AWS access.
 * Nothing is read past a failed digest or signature: the parts of an unsigned manifest are not
 * reported on, and a part key that would leave the manifest's folder is refused, never opened.
 */
export async function verifyOffline(input: {
  manifest: Buffer;
  publicKey: Buffer;
  /** The part's stored bytes as a stream, or undefined when the file is not there. */
  openPart: (part: ManifestPart, relativeKey: string) => Readable | undefined;
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
  let valid = false;
  let detail = 'the signature does not verify with this public key';
  try {
    valid = verify(
      'sha256',
      Buffer.from(canonicalJson(raw.manifest)),
      { key: loadPublicKey(input.publicKey), dsaEncoding: 'der' },
      Buffer.from(signed.signature.value, 'base64'),
    );
  } catch (error) {
    detail = `the signature could not be checked: ${(error as Error).message}`;
  }
  checks.push({ check: 'signature', ok: valid, detail: valid ? `ECDSA_SHA_256 signature by ${signed.signature.keyId} verifies with the public key` : detail });
  if (!valid) return { ok: false, snapshotId: signed.manifest.snapshotId, target: signed.manifest.target, checks };
  for (const part of signed.manifest.parts) {
    const located = relativePartKey(part.key, signed.manifest.vault.prefix);
    if ('refused' in located) {
      checks.push({ check: `part ${part.key}`, ok: false, detail: `refused: ${located.refused}` });
      continue;
    }
    const relative = located.relative;
    let body: Readable | undefined;
    try {
      body = input.openPart(part, relative);
    } catch (error) {
      checks.push({ check: `part ${relative}`, ok: false, detail: (error as Error).message });
      continue;
    }
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
