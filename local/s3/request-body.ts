import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { AwsChunkedDecoder } from './aws-chunked-decoder.ts';
import { S3Errors } from './errors.ts';

/** What we know about a received payload once it is fully read and verified. */
export interface ReceivedBody {
  size: number;
  md5Hex: string;
  /** Base64 CRC32 of the payload, as S3's `x-amz-checksum-crc32`. */
  crc32: string;
}

/** The `x-amz-checksum-*` algorithms we can verify, with the hash we compute for each. */
const VERIFIABLE_CHECKSUMS = ['crc32', 'sha1', 'sha256'] as const;
type VerifiableChecksum = (typeof VERIFIABLE_CHECKSUMS)[number];

export function crc32Base64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

export function isAwsChunked(req: IncomingMessage): boolean {
  const encoding = header(req, 'content-encoding') ?? '';
  const sha = header(req, 'x-amz-content-sha256') ?? '';
  return encoding.split(',').some((e) => e.trim() === 'aws-chunked') || sha.startsWith('STREAMING-');
}

/** Content-Encoding to store: the request's, minus the transport-only `aws-chunked`. */
export function storedContentEncoding(req: IncomingMessage): string | undefined {
  const encodings = (header(req, 'content-encoding') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked');
  return encodings.length > 0 ? encodings.join(',') : undefined;
}

/** Hashes everything flowing through it: MD5 (ETag), CRC32, and any checksum the client announced. */
class DigestTap extends Transform {
  size = 0;
  crc = 0;
  readonly md5 = createHash('md5');
  readonly extra = new Map<VerifiableChecksum, Hash>();

  constructor(extraAlgorithms: VerifiableChecksum[]) {
    super();
    for (const algorithm of extraAlgorithms) {
      if (algorithm !== 'crc32') this.extra.set(algorithm, createHash(algorithm));
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    this.crc = crc32(chunk, this.crc);
    this.md5.update(chunk);
    for (const hash of this.extra.values()) hash.update(chunk);
    callback(null, chunk);
  }
}

/** Algorithms whose checksum arrives in a header or is announced as an aws-chunked trailer. */
function announcedChecksums(req: IncomingMessage): VerifiableChecksum[] {
  const trailer = (header(req, 'x-amz-trailer') ?? '').toLowerCase();
  return VERIFIABLE_CHECKSUMS.filter(
    (algorithm) => header(req, `x-amz-checksum-${algorithm}`) !== undefined || trailer.includes(`x-amz-checksum-${algorithm}`),
  );
}

function verify(req: IncomingMessage, tap: DigestTap, decoder: AwsChunkedDecoder | undefined): ReceivedBody {
  const md5 = tap.md5.digest();
  const contentMd5 = header(req, 'content-md5');
  if (contentMd5 !== undefined) {
    const expected = Buffer.from(contentMd5, 'base64');
    if (expected.length !== 16) throw S3Errors.invalidDigest();
    if (!expected.equals(md5)) throw S3Errors.badDigest('Content-MD5');
  }

  const decodedLength = header(req, 'x-amz-decoded-content-length');
  if (decoder && decodedLength !== undefined && Number(decodedLength) !== tap.size) throw S3Errors.incompleteBody();

  const crc = crc32Base64(tap.crc);
  for (const algorithm of VERIFIABLE_CHECKSUMS) {
    const name = `x-amz-checksum-${algorithm}`;
    const expected = header(req, name) ?? decoder?.trailers.get(name);
    if (expected === undefined) continue;
    const actual = algorithm === 'crc32' ? crc : tap.extra.get(algorithm)?.digest('base64');
    if (actual !== expected) throw S3Errors.badDigest(algorithm.toUpperCase());
  }
  return { size: tap.size, md5Hex: md5.toString('hex'), crc32: crc };
}

async function receive(req: IncomingMessage, sink: Writable): Promise<ReceivedBody> {
  const tap = new DigestTap(announcedChecksums(req));
  const decoder = isAwsChunked(req) ? new AwsChunkedDecoder() : undefined;
  const first = decoder ?? tap;
  const done = pipeline(decoder ? [decoder, tap, sink] : [tap, sink]);
  // The request is piped by hand rather than joined to the pipeline, so a bad body does not destroy the
  // socket: the caller can still answer with an S3 error while Node discards the rest of the upload.
  const onClose = () => {
    if (!req.complete) first.destroy(S3Errors.incompleteBody());
  };
  req.once('close', onClose);
  req.pipe(first);
  try {
    await done;
  } catch (error) {
    req.unpipe(first);
    req.resume();
    throw error;
  } finally {
    req.off('close', onClose);
  }
  return verify(req, tap, decoder);
}

/** Streams the decoded payload to `path` (flushed to disk before it resolves). Removes the file on failure. */
export async function receiveBodyToFile(req: IncomingMessage, path: string): Promise<ReceivedBody> {
  const file = createWriteStream(path, { flush: true });
  try {
    return await receive(req, file);
  } catch (error) {
    // The stream may still be opening the file: wait until it is closed, or the file reappears after rm.
    if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    await rm(path, { force: true });
    throw error;
  }
}

/** Reads a small decoded payload (an XML request document) into memory, refusing more than `limit` bytes. */
export async function receiveBodyToBuffer(req: IncomingMessage, limit: number): Promise<{ body: Buffer } & ReceivedBody> {
  const parts: Buffer[] = [];
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (total > limit) {
        callback(S3Errors.entityTooLarge());
        return;
      }
      parts.push(chunk);
      callback();
    },
  });
  const received = await receive(req, sink);
  return { ...received, body: Buffer.concat(parts, total) };
}
