import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../functions/core/canonical-json.ts';
import { ChunkAssembler, fixedChunks, readAll } from '../../../functions/core/dr/object-chunks.ts';
import { readPartLines } from '../../../functions/core/dr/part-reader.ts';
import { LinePool } from '../../../functions/core/dr/line-pool.ts';
import { PartWriter, chooseCompression } from '../../../functions/core/dr/part-writer.ts';
import { objectRecordBytes, objectRecordLine, parseObjectRecord, tableRecordLine } from '../../../functions/core/dr/record-codec.ts';
import type { ObjectRecord } from '../../../functions/core/dr/record-codec.ts';

function memorySink() {
  const stored = new Map<string, Buffer>();
  return {
    stored,
    open(key: string) {
      const stream = new PassThrough();
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      const done = new Promise((resolve) => stream.on('end', () => resolve(stored.set(key, Buffer.concat(chunks)))));
      return { stream, done };
    },
  };
}

const part = (rawBytes: number) => ({ index: 0, key: 'p/0', source: 's', records: 1, bytes: 0, rawBytes, sha256: '0'.repeat(64) });

describe('object records', () => {
  it('are the canonical JSON of the record, chunk fields included, and parse back', () => {
    const whole: ObjectRecord = { key: 'a/b.txt', contentType: 'text/plain', metadata: { z: '1', a: '2' }, body: Buffer.from('héllo') };
    expect(objectRecordLine(whole)).toBe(canonicalJson({ ...whole, body: whole.body.toString('base64') }));
    const chunk: ObjectRecord = { key: 'big', metadata: {}, body: randomBytes(1000), offset: 2000, size: 5000 };
    expect(objectRecordBytes(chunk).toString()).toBe(canonicalJson({ ...chunk, body: chunk.body.toString('base64') }));
    expect(parseObjectRecord(objectRecordLine(chunk))).toEqual({ ...chunk, contentType: undefined });
    expect(parseObjectRecord(objectRecordLine(whole))).not.toHaveProperty('offset');
  });

  it('fixedChunks cuts a stream into exact pieces whatever its own chunking', async () => {
    const bytes = randomBytes(10_000);
    const pieces: Buffer[] = [];
    for await (const piece of fixedChunks(Readable.from([bytes.subarray(0, 7), bytes.subarray(7, 4500), bytes.subarray(4500)]), 3000)) pieces.push(piece);
    expect(pieces.map((p) => p.length)).toEqual([3000, 3000, 3000, 1000]);
    expect(Buffer.concat(pieces).equals(bytes)).toBe(true);
  });

  it('fixedChunks joins in one scratch buffer when given one: the same pieces, each read before the next', async () => {
    const bytes = randomBytes(10_000);
    const scratch = Buffer.alloc(3000);
    const pieces: Buffer[] = [];
    for await (const piece of fixedChunks(Readable.from([bytes.subarray(0, 7), bytes.subarray(7, 4500), bytes.subarray(4500)]), 3000, scratch)) {
      pieces.push(Buffer.from(piece));
    }
    expect(pieces.map((p) => p.length)).toEqual([3000, 3000, 3000, 1000]);
    expect(Buffer.concat(pieces).equals(bytes)).toBe(true);
  });

  it('encode the body as Buffer’s base64 does, whatever its length, into the buffer they are given', () => {
    for (const length of [0, 1, 2, 3, 4, 5, 47, 48 * 1024 + 1, 1024 * 1024]) {
      const record: ObjectRecord = { key: 'k', metadata: {}, body: randomBytes(length), offset: 0, size: length };
      const into = Buffer.alloc(2 * 1024 * 1024, 0xff);
      const line = objectRecordBytes(record, (bytes) => into.subarray(0, bytes));
      expect(line.buffer).toBe(into.buffer);
      expect(line.toString()).toBe(canonicalJson({ ...record, body: record.body.toString('base64') }));
    }
  });
});

describe('pooled lines', () => {
  it('are reused once handed back, never more than the pool’s bound, and only when they fit', () => {
    const pool = new LinePool({ capacity: 1000, max: 2 });
    const a = pool.take(900);
    const b = pool.take(800);
    const fresh = pool.take(900);
    expect([a.release, b.release, fresh.release].map(Boolean)).toEqual([true, true, false]);
    expect(pool.take(100).release).toBeUndefined(); // too small to hold a pooled buffer
    expect(pool.take(1001).release).toBeUndefined(); // does not fit
    a.release!();
    const again = pool.take(700);
    expect(again.buffer.buffer).toBe(a.buffer.buffer);
    expect(again.buffer.length).toBe(700);
  });

  it('go back from the part writer once their part is stored, not before, and not after a failed upload', async () => {
    const events: string[] = [];
    const writer = new PartWriter({
      partBytes: 1_000, // one record per part
      compression: 'none',
      keyOf: (i) => `p/${i}`,
      open: (key) => {
        const stream = new PassThrough();
        stream.resume();
        const done = new Promise((resolve, reject) =>
          stream.on('end', () =>
            setImmediate(() => {
              events.push(key === 'p/1' ? `failed ${key}` : `stored ${key}`);
              if (key === 'p/1') reject(new Error('the vault refused it'));
              else resolve(undefined);
            }),
          ),
        );
        return { stream, done };
      },
    });
    async function* records() {
      for (let i = 0; i < 3; i += 1) yield { line: Buffer.alloc(1_500, 'a'), key: i, release: () => void events.push(`released r${i}`) };
    }
    await expect(writer.writeSource('s', records())).rejects.toThrow('the vault refused it');
    expect(events.indexOf('released r0')).toBeGreaterThan(events.indexOf('stored p/0'));
    expect(events.indexOf('released r2')).toBeGreaterThan(events.indexOf('stored p/2'));
    expect(events).toContain('failed p/1');
    expect(events).not.toContain('released r1');
  });
});

describe('compression auto', () => {
  it('stores high-entropy parts (base64 of random bytes) and gzips JSON and text', () => {
    expect(chooseCompression(Buffer.from(objectRecordLine({ key: 'k', metadata: {}, body: randomBytes(100_000) })))).toBe('none');
    const items = Array.from({ length: 2000 }, (_, i) => tableRecordLine({ id: { S: `item-${i}` }, n: { N: String(i) } })).join('\n');
    expect(chooseCompression(Buffer.from(items))).toBe('gzip');
    expect(chooseCompression(Buffer.from(objectRecordLine({ key: 'k', metadata: {}, body: Buffer.from('lorem ipsum '.repeat(10_000)) })))).toBe('gzip');
    expect(chooseCompression(Buffer.from('tiny'))).toBe('gzip');
  });

  it('records each part’s choice, names its key after it, and reads every part back', async () => {
    const sink = memorySink();
    const writer = new PartWriter({ partBytes: 200_000, compression: 'auto', keyOf: (i, c) => `p/${i}.${c}`, open: (k) => sink.open(k) });
    async function* records() {
      for (let i = 0; i < 3; i += 1) yield { line: objectRecordBytes({ key: `r${i}`, metadata: {}, body: randomBytes(150_000) }), key: `r${i}` };
      for (let i = 0; i < 3000; i += 1) yield { line: tableRecordLine({ id: { S: `k${i}` }, pad: { S: 'x'.repeat(50) } }), key: i };
    }
    const stats = await writer.writeSource('s', records());
    const choices = writer.parts.map((p) => p.compression);
    expect(choices[0]).toBe('none');
    expect(choices.at(-1)).toBe('gzip');
    expect(writer.parts.every((p) => p.key === `p/${p.index}.${p.compression}`)).toBe(true);
    let lines = 0;
    for (const p of writer.parts) {
      for await (const _ of readPartLines(p, Readable.from([sink.stored.get(p.key)!]), p.compression!)) lines += 1;
    }
    expect(lines).toBe(stats.records);
  });
});

describe('restore bounds', () => {
  it('refuses a part that decodes to more than its rawBytes (a gzip bomb), before reading it all', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 'a'));
    const reading = async () => {
      for await (const _ of readPartLines(part(1024), Readable.from([bomb]), 'gzip'));
    };
    await expect(reading()).rejects.toMatchObject({ name: 'ArtifactRejected', details: { check: 'part-raw-bytes' } });
  });

  it('refuses a part that is not gzip when it says it is', async () => {
    const reading = async () => {
      for await (const _ of readPartLines(part(1024), Readable.from([Buffer.from('{"a":1}\n')]), 'gzip'));
    };
    await expect(reading()).rejects.toMatchObject({ name: 'ArtifactRejected' });
  });

  it('assembles chunk records in order into one streamed write, and refuses gaps, reordering and a missing end', async () => {
    const body = randomBytes(10_000);
    const written = new Map<string, Buffer>();
    const assembler = () => new ChunkAssembler(async (record, stream) => void written.set(record.key, await readAll(stream)));
    const chunk = (key: string, offset: number, length: number): ObjectRecord => ({
      key,
      metadata: {},
      body: body.subarray(offset, offset + length),
      offset,
      size: body.length,
    });

    const good = assembler();
    for (const offset of [0, 4000, 8000]) await good.add(chunk('a', offset, Math.min(4000, body.length - offset)));
    good.finish();
    expect(written.get('a')!.equals(body)).toBe(true);

    const gap = assembler();
    await gap.add(chunk('b', 0, 4000));
    await expect(gap.add(chunk('b', 5000, 4000))).rejects.toMatchObject({ name: 'ArtifactRejected', details: { check: 'object-chunks' } });
    await gap.settle();

    const late = assembler();
    await expect(late.add(chunk('c', 4000, 4000))).rejects.toMatchObject({ name: 'ArtifactRejected' });

    const other = assembler();
    await other.add(chunk('d', 0, 4000));
    await expect(other.add(chunk('e', 0, 4000))).rejects.toMatchObject({ name: 'ArtifactRejected' });
    await other.settle();

    const short = assembler();
    await short.add(chunk('f', 0, 4000));
    expect(() => short.finish()).toThrow(/ends at byte 4000 of 10000/);
    await short.settle();
    expect([...written.keys()]).toEqual(['a']);
  });
});
