import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { ArtifactRejected } from '../errors.ts';
import type { ManifestPart } from './manifest.ts';

/** Checks a stored part's size and SHA-256 against the manifest without keeping it in memory. */
export async function verifyPartBytes(part: ManifestPart, body: Readable): Promise<void> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  checkPart(part, bytes, hash.digest('hex'));
}

function checkPart(part: ManifestPart, bytes: number, sha256: string): void {
  if (sha256 !== part.sha256 || bytes !== part.bytes) {
    throw new ArtifactRejected(`part ${part.key} hashes to ${sha256} (${bytes} bytes); the manifest says ${part.sha256} (${part.bytes} bytes)`, {
      details: { check: 'part-sha256', part: part.key },
    });
  }
}

/**
 * Reads a part's records line by line, hashing the stored bytes on the way; the hash is checked once
 * the part is read, so a caller writing the records writes only into a copy that is discarded on failure.
 */
export async function* readPartLines(part: ManifestPart, body: Readable, compression: 'gzip' | 'none'): AsyncGenerator<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  let decoded: Readable = body;
  if (compression === 'gzip') {
    const gunzip = createGunzip();
    body.on('error', (error) => gunzip.destroy(error));
    gunzip.on('error', () => undefined);
    decoded = body.pipe(gunzip);
  }
  const lines = createInterface({ input: decoded, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length > 0) yield line;
  }
  checkPart(part, bytes, hash.digest('hex'));
}
