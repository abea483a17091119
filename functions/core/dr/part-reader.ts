import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
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
 * What the part decodes to is bounded by its `rawBytes`: a part that inflates past it (a gzip bomb, a
 * line without end) is refused as soon as it does, so memory stays bounded by the signed part size.
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
    decoded = body.pipe(gunzip);
  }
  let decodedBytes = 0;
  const bounded = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      decodedBytes += chunk.length;
      if (decodedBytes > part.rawBytes) {
        callback(
          new ArtifactRejected(`part ${part.key} decodes to more than the ${part.rawBytes} bytes the manifest records`, {
            details: { check: 'part-raw-bytes', part: part.key },
          }),
        );
        return;
      }
      callback(null, chunk);
    },
  });
  decoded.on('error', (error: Error & { code?: string }) =>
    bounded.destroy(
      error.code?.startsWith('Z_')
        ? new ArtifactRejected(`part ${part.key} is not valid gzip: ${error.message}`, { details: { check: 'part-sha256', part: part.key } })
        : error,
    ),
  );
  decoded.pipe(bounded);
  const lines = createInterface({ input: bounded, crlfDelay: Infinity });
  const failure = new Promise<never>((_resolve, reject) => bounded.once('error', reject));
  failure.catch(() => undefined);
  const iterator = lines[Symbol.asyncIterator]();
  for (;;) {
    const next = await Promise.race([iterator.next(), failure]);
    if (next.done) break;
    if (next.value.length > 0) yield next.value;
  }
  checkPart(part, bytes, hash.digest('hex'));
}
