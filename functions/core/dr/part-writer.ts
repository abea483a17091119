import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, deflateRawSync } from 'node:zlib';
import { ContentDigest } from './content-digest.ts';
import type { ManifestPart } from './manifest.ts';

/** One record of a snapshot: its canonical line (text, or its UTF-8 bytes) and its primary key (for sample reads). */
export interface SnapshotRecord {
  line: string | Buffer;
  key: unknown;
  /** Called once the part holding the line is stored (not after a failure): the line's buffer may be reused. */
  release?: () => void;
}

const NEWLINE = Buffer.from('\n');

/** Where a part's bytes go (the vault, through a multipart upload): a writable stream and its completion. */
export interface PartSink {
  stream: Writable;
  /** Resolves once the part is stored. */
  done: Promise<unknown>;
}

export interface SourceStats {
  records: number;
  rawBytes: number;
  contentDigest: string;
  samples: { key: unknown; sha256: string }[];
}

export interface PartWriterOptions {
  partBytes: number;
  /** `auto`: chosen per part from a sample of its first bytes (see {@link chooseCompression}); the part records its choice. */
  compression: 'gzip' | 'none' | 'auto';
  /** The part's key; `compression` is how this part is stored. */
  keyOf: (index: number, compression: 'gzip' | 'none') => string;
  open: (key: string) => PartSink;
  /** Called between records; throw to stop (the quiesce deadline). */
  checkpoint?: () => void;
  /** Called after each part is stored. */
  onPart?: (part: ManifestPart) => void | Promise<void>;
  samplesPerSource?: number;
  /** Parts uploading at once, the one being written included (earlier ones finish beside it). @default 2 */
  uploadsInFlight?: number;
}

const CHUNK_BYTES = 64 * 1024;
/** The sample `auto` deflates: the first 16 KiB of a part (64 KiB took 4 to 8 ms here under load, for the same answer). */
export const COMPRESSION_SAMPLE_BYTES = 16 * 1024;
/** Below this, a sample says too little (and gzip costs too little) to store a part uncompressed. */
const MIN_SAMPLE_BYTES = 4 * 1024;
/** Stored as is when level-1 deflate keeps more than this share of the sample (saves under 30 %). */
export const INCOMPRESSIBLE_RATIO = 0.7;

/**
 * How a part is stored under `auto`: its first 16 KiB deflated at level 1 (under a millisecond). Every
 * object body travels as base64, which alone lets gzip save a quarter of high-entropy data (random,
 * encrypted, already compressed bodies) while costing about 10 MiB/s of CPU on it: so a sample that
 * does not shrink by 30 % is stored, anything more compressible (JSON items, text) is gzipped.
 */
export function chooseCompression(sample: Buffer): 'gzip' | 'none' {
  if (sample.length < MIN_SAMPLE_BYTES) return 'gzip';
  const head = sample.subarray(0, COMPRESSION_SAMPLE_BYTES);
  return deflateRawSync(head, { level: 1 }).length > head.length * INCOMPRESSIBLE_RATIO ? 'none' : 'gzip';
}

/**
 * Streams records into parts of about `partBytes` (JSON Lines, gzip optional or chosen per part),
 * hashing every part as stored (SHA-256) while it is uploaded. Memory stays flat: at most one chunk
 * of lines per part is buffered here, the rest is the uploads' own bounded buffers; the next part is
 * written while at most `uploadsInFlight` earlier ones finish uploading.
 */
export class PartWriter {
  readonly parts: ManifestPart[] = [];
  readonly #options: PartWriterOptions;

  constructor(options: PartWriterOptions) {
    this.#options = options;
  }

  /** Writes one source's records into its own parts; returns the source's counts, digest and samples. */
  async writeSource(sourceId: string, records: AsyncIterable<SnapshotRecord>): Promise<SourceStats> {
    const iterator = records[Symbol.asyncIterator]();
    const digest = new ContentDigest();
    const samples: SourceStats['samples'] = [];
    const maxSamples = this.#options.samplesPerSource ?? 3;
    const options = this.#options;
    const inFlight: Promise<unknown>[] = [];
    let rawBytes = 0;
    let pending = await iterator.next();
    try {
      while (!pending.done) {
        const index = this.parts.length;
        const part = { records: 0, rawBytes: 0, releases: [] as (() => void)[] };
        async function* partChunks(): AsyncGenerator<Buffer> {
          let chunk: Buffer[] = [];
          let chunkBytes = 0;
          while (!pending.done && part.rawBytes < options.partBytes) {
            options.checkpoint?.();
            const record = pending.value;
            const line = typeof record.line === 'string' ? Buffer.from(record.line) : record.line;
            const sha = digest.add(line);
            if (samples.length < maxSamples) samples.push({ key: record.key, sha256: sha });
            part.records += 1;
            part.rawBytes += line.length + 1;
            if (record.release) part.releases.push(record.release);
            if (line.length >= CHUNK_BYTES) {
              // A large line (an object chunk) goes on as it is, without being copied into a chunk.
              if (chunkBytes > 0) yield Buffer.concat(chunk, chunkBytes);
              yield line;
              chunk = [NEWLINE];
              chunkBytes = 1;
            } else {
              chunk.push(line, NEWLINE);
              chunkBytes += line.length + 1;
              if (chunkBytes >= CHUNK_BYTES) {
                yield Buffer.concat(chunk, chunkBytes);
                chunk = [];
                chunkBytes = 0;
              }
            }
            pending = await iterator.next();
          }
          if (chunkBytes > 0) yield Buffer.concat(chunk, chunkBytes);
        }
        const chunks = partChunks();
        // The first chunk decides how the part is stored (auto), so the sink opens only once it is known.
        const first = await chunks.next();
        const compression = options.compression === 'auto' ? chooseCompression(first.done ? Buffer.alloc(0) : first.value) : options.compression;
        const key = options.keyOf(index, compression);
        const hash = createHash('sha256');
        let storedBytes = 0;
        const hasher = new Transform({
          transform(data: Buffer, _encoding, callback) {
            hash.update(data);
            storedBytes += data.length;
            callback(null, data);
          },
        });
        const sink = options.open(key);
        const source = Readable.from(
          (async function* () {
            if (!first.done) yield first.value;
            yield* chunks;
          })(),
        );
        const stored = compression === 'gzip' ? pipeline(source, createGzip({ level: 6 }), hasher, sink.stream) : pipeline(source, hasher, sink.stream);
        // Every byte is hashed once the pipeline ends; the upload may still be finishing, beside the next part.
        await Promise.race([stored, sink.done.then(() => stored)]);
        rawBytes += part.rawBytes;
        const entry: ManifestPart = {
          index,
          key,
          source: sourceId,
          records: part.records,
          bytes: storedBytes,
          rawBytes: part.rawBytes,
          sha256: hash.digest('hex'),
          ...(options.compression === 'auto' ? { compression } : {}),
        };
        this.parts.push(entry);
        const uploaded = sink.done.then(() => {
          // Stored: the upload has read every line, and so have the hash and gzip before it.
          for (const release of part.releases) release();
          return options.onPart?.(entry);
        });
        uploaded.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
        inFlight.push(uploaded);
        while (inFlight.length >= (options.uploadsInFlight ?? 2)) await inFlight.shift();
      }
      while (inFlight.length > 0) await inFlight.shift();
    } finally {
      await Promise.allSettled(inFlight);
    }
    return { records: digest.count, rawBytes, contentDigest: digest.hex, samples };
  }
}
