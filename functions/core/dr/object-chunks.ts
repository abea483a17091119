import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import { ArtifactRejected } from '../errors.ts';
import type { ObjectRecord } from './record-codec.ts';

/**
 * Objects larger than this travel as chunk records of this many bytes (the last one shorter), each
 * with its `offset` and the object's `size`: neither a snapshot nor a restore holds a large object whole.
 */
export const OBJECT_CHUNK_BYTES = 1024 * 1024;

/**
 * The stream cut into pieces of exactly `size` bytes (the last one shorter); at most one piece is buffered.
 * With `scratch` (at least `size` bytes) the pieces are joined in it instead of in a fresh buffer each:
 * a piece is then only valid until the next one is asked for.
 */
export async function* fixedChunks(stream: Readable, size: number, scratch?: Buffer): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let heldBytes = 0;
  const join = (bytes: number) => {
    if (!scratch) return Buffer.concat(held, bytes);
    let at = 0;
    for (const piece of held) at += piece.copy(scratch, at);
    return scratch.subarray(0, bytes);
  };
  for await (const data of stream) {
    let chunk = data as Buffer;
    while (heldBytes + chunk.length >= size) {
      const take = size - heldBytes;
      held.push(chunk.subarray(0, take));
      yield held.length === 1 ? held[0] : join(size);
      chunk = chunk.subarray(take);
      held = [];
      heldBytes = 0;
    }
    if (chunk.length > 0) {
      held.push(chunk);
      heldBytes += chunk.length;
    }
  }
  if (heldBytes > 0) yield join(heldBytes);
}

/** The whole stream in one buffer (for bodies whose size is known to be small). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const data of stream) parts.push(data as Buffer);
  return Buffer.concat(parts);
}

/**
 * Maps `items` through `map` with up to `depth` calls under way at once, in order: the next objects'
 * requests go out while the current one is being written.
 */
export async function* readAhead<T, R>(items: AsyncIterable<T>, depth: number, map: (item: T) => Promise<R>): AsyncGenerator<R> {
  const queue: Promise<R>[] = [];
  try {
    for await (const item of items) {
      const mapped = map(item);
      mapped.catch(() => undefined); // awaited in order below
      queue.push(mapped);
      if (queue.length >= depth) yield await queue.shift()!;
    }
    while (queue.length > 0) yield await queue.shift()!;
  } finally {
    // Abandoned early (a failure downstream): close the streams already opened.
    for (const pending of queue) {
      pending.then(
        (value) => (value as { body?: Readable } | undefined)?.body?.destroy?.(),
        () => undefined,
      );
    }
  }
}

/**
 * Restores chunked objects from their records in order: the first chunk opens a streaming write,
 * each next one must continue exactly where the previous ended, the last one completes it.
 */
export class ChunkAssembler {
  #open:
    | { key: string; size: number; next: number; push: (chunk: Buffer | null) => Promise<void>; done: Promise<void>; abort: () => Promise<void> }
    | undefined;
  readonly #start: (record: ObjectRecord, body: Readable) => Promise<void>;

  /** `start` writes one object of `record.size` bytes from the stream it is given. */
  constructor(start: (record: ObjectRecord, body: Readable) => Promise<void>) {
    this.#start = start;
  }

  /** Adds one chunk record; resolves once it is handed on (and, for the last chunk, once the object is written). Returns whether an object was completed. */
  async add(record: ObjectRecord): Promise<boolean> {
    const offset = record.offset ?? 0;
    const size = record.size ?? record.body.length;
    if (!this.#open) {
      if (offset !== 0) throw chunkError(record.key, `starts at byte ${offset}`);
      this.#open = this.#begin(record, size);
    } else if (this.#open.key !== record.key || offset !== this.#open.next) {
      throw chunkError(this.#open.key, `is followed by a chunk of ${record.key} at byte ${offset}, not at byte ${this.#open.next}`);
    }
    const open = this.#open;
    open.next = offset + record.body.length;
    if (open.next > open.size) throw chunkError(record.key, `has chunks past its size of ${open.size} bytes`);
    await open.push(record.body);
    if (open.next < open.size) return false;
    this.#open = undefined;
    await open.push(null);
    await open.done;
    return true;
  }

  /** Waits for the object being written, if any, to stop (after a failure, before the copy is discarded). */
  async settle(): Promise<void> {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    await open.abort();
  }

  /** After the last part: an object still open lost its last chunks. */
  finish(): void {
    if (this.#open) throw chunkError(this.#open.key, `ends at byte ${this.#open.next} of ${this.#open.size}`);
  }

  #begin(record: ObjectRecord, size: number) {
    // The upload pulls from this stream; a chunk waits here only while the upload's buffers are full.
    const body = new PassThrough({ highWaterMark: OBJECT_CHUNK_BYTES });
    const done = this.#start(record, body);
    done.catch((error: unknown) => body.destroy(error as Error));
    const push = async (chunk: Buffer | null) => {
      if (chunk === null) {
        body.end();
        return;
      }
      if (!body.write(chunk)) await Promise.race([once(body, 'drain'), done]);
    };
    const abort = async () => {
      body.destroy(new Error('the restore stopped'));
      await done.catch(() => undefined);
    };
    return { key: record.key, size, next: 0, push, done, abort };
  }
}

function chunkError(key: string, problem: string): ArtifactRejected {
  return new ArtifactRejected(`the chunk records of object ${key}: the object ${problem}`, { details: { check: 'object-chunks' } });
}
