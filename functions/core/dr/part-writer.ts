import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ContentDigest } from './content-digest.ts';
import type { ManifestPart } from './manifest.ts';

/** One record of a snapshot: its canonical line and its primary key (for sample reads). */
export interface SnapshotRecord {
  line: string;
  key: unknown;
}

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
  compression: 'gzip' | 'none';
  keyOf: (index: number) => string;
  open: (key: string) => PartSink;
  /** Called between records; throw to stop (the quiesce deadline). */
  checkpoint?: () => void;
  /** Called after each part is stored. */
  onPart?: (part: ManifestPart) => void | Promise<void>;
  samplesPerSource?: number;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Streams records into parts of about `partBytes` (JSON Lines, gzip optional), hashing every part as
 * stored (SHA-256) while it is uploaded. Memory stays flat: at most one chunk of lines per part is
 * buffered here, the rest is the upload's own bounded buffer.
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
    let rawBytes = 0;
    let pending = await iterator.next();
    while (!pending.done) {
      const index = this.parts.length;
      const key = this.#options.keyOf(index);
      const part = { records: 0, rawBytes: 0 };
      const options = this.#options;
      async function* partChunks(): AsyncGenerator<Buffer> {
        let chunk: string[] = [];
        let chunkBytes = 0;
        while (!pending.done && part.rawBytes < options.partBytes) {
          options.checkpoint?.();
          const record = pending.value;
          const line = `${record.line}\n`;
          const sha = digest.add(record.line);
          if (samples.length < maxSamples) samples.push({ key: record.key, sha256: sha });
          const bytes = Buffer.byteLength(line);
          part.records += 1;
          part.rawBytes += bytes;
          chunk.push(line);
          chunkBytes += bytes;
          if (chunkBytes >= CHUNK_BYTES) {
            yield Buffer.from(chunk.join(''));
            chunk = [];
            chunkBytes = 0;
          }
          pending = await iterator.next();
        }
        if (chunk.length > 0) yield Buffer.from(chunk.join(''));
      }
      const hash = createHash('sha256');
      let storedBytes = 0;
      const hasher = new Transform({
        transform(data: Buffer, _encoding, callback) {
          hash.update(data);
          storedBytes += data.length;
          callback(null, data);
        },
      });
      const sink = this.#options.open(key);
      const source = Readable.from(partChunks());
      const stored =
        this.#options.compression === 'gzip' ? pipeline(source, createGzip({ level: 6 }), hasher, sink.stream) : pipeline(source, hasher, sink.stream);
      await Promise.all([stored, sink.done]);
      rawBytes += part.rawBytes;
      const entry: ManifestPart = {
        index,
        key,
        source: sourceId,
        records: part.records,
        bytes: storedBytes,
        rawBytes: part.rawBytes,
        sha256: hash.digest('hex'),
      };
      this.parts.push(entry);
      await this.#options.onPart?.(entry);
    }
    return { records: digest.count, rawBytes, contentDigest: digest.hex, samples };
  }
}
