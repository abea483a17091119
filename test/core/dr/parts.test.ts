import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ContentDigest } from '../../../functions/core/dr/content-digest.ts';
import { canonicalManifest, manifestSha256, parseSignedManifest } from '../../../functions/core/dr/manifest.ts';
import type { Manifest } from '../../../functions/core/dr/manifest.ts';
import { readPartLines, verifyPartBytes } from '../../../functions/core/dr/part-reader.ts';
import { PartWriter } from '../../../functions/core/dr/part-writer.ts';
import { itemFromJson, itemToJson, parseTableRecord, tableRecordLine } from '../../../functions/core/dr/record-codec.ts';
import { evaluateCheck, evaluateSmokeTests } from '../../../functions/core/dr/smoke-tests.ts';
import { itemToPlain, keyFromPlain } from '../../../functions/core/dr/record-codec.ts';
import { DrCheck } from '../../../functions/core/dr/targets.ts';
import { assertNotQuiesced } from '../../../functions/core/dr/quiesce.ts';

/** An in-memory sink: what the vault would store under each key. */
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

async function* records(count: number) {
  for (let i = 0; i < count; i += 1) yield { line: tableRecordLine({ id: { S: `k${i}` }, pad: { S: 'x'.repeat(100) } }), key: { id: { S: `k${i}` } } };
}

describe('parts', () => {
  for (const compression of ['gzip', 'none'] as const) {
    it(`cuts records into parts by size, hashes each as stored, and reads them back (${compression})`, async () => {
      const sink = memorySink();
      const writer = new PartWriter({ partBytes: 4096, compression, keyOf: (i) => `p/${i}`, open: (k) => sink.open(k) });
      const stats = await writer.writeSource('table:t', records(100));
      expect(stats.records).toBe(100);
      expect(stats.samples).toHaveLength(3);
      expect(writer.parts.length).toBeGreaterThan(2);
      expect(writer.parts.reduce((s, p) => s + p.records, 0)).toBe(100);
      const digest = new ContentDigest();
      for (const part of writer.parts) {
        const bytes = sink.stored.get(part.key)!;
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(part.sha256);
        await verifyPartBytes(part, Readable.from([bytes]));
        for await (const line of readPartLines(part, Readable.from([bytes]), compression)) digest.add(line);
      }
      expect(digest.hex).toBe(stats.contentDigest);
    });
  }

  it('a changed part is rejected', async () => {
    const sink = memorySink();
    const writer = new PartWriter({ partBytes: 1 << 20, compression: 'none', keyOf: (i) => `p/${i}`, open: (k) => sink.open(k) });
    await writer.writeSource('table:t', records(5));
    const bytes = Buffer.from(sink.stored.get('p/0')!.toString().replace('k1', 'k9'));
    await expect(verifyPartBytes(writer.parts[0], Readable.from([bytes]))).rejects.toMatchObject({ name: 'ArtifactRejected' });
    const reading = async () => {
      for await (const _ of readPartLines(writer.parts[0], Readable.from([bytes]), 'none'));
    };
    await expect(reading()).rejects.toMatchObject({ name: 'ArtifactRejected' });
  });

  it('stops at the checkpoint (the quiesce bound)', async () => {
    const sink = memorySink();
    let n = 0;
    const writer = new PartWriter({
      partBytes: 1 << 20,
      compression: 'gzip',
      keyOf: (i) => `p/${i}`,
      open: (k) => sink.open(k),
      checkpoint: () => {
        if (++n > 10) throw Object.assign(new Error('expired'), { name: 'QuiesceExpired' });
      },
    });
    await expect(writer.writeSource('table:t', records(50))).rejects.toMatchObject({ name: 'QuiesceExpired' });
  });

  it('the content digest does not depend on order', () => {
    const a = new ContentDigest();
    const b = new ContentDigest();
    for (const l of ['x', 'y', 'z']) a.add(l);
    for (const l of ['z', 'x', 'y']) b.add(l);
    expect(a.hex).toBe(b.hex);
    b.add('w');
    expect(a.hex).not.toBe(b.hex);
  });

  it('DynamoDB JSON keeps binaries, sets and nesting exactly', () => {
    const item = {
      id: { S: 'a' },
      b: { B: new Uint8Array([0, 255]) },
      bs: { BS: [new Uint8Array([1])] },
      m: { M: { n: { N: '1.50' }, l: { L: [{ B: new Uint8Array([7]) }] } } },
    };
    const back = itemFromJson(itemToJson(item));
    expect(tableRecordLine(back)).toBe(tableRecordLine(item));
    expect(parseTableRecord(tableRecordLine(item))).toEqual(itemFromJson(itemToJson(item)));
  });
});

describe('manifest', () => {
  const manifest: Manifest = {
    format: 'maestro-dr-manifest/1',
    snapshotId: 's',
    target: 'demo',
    startedAt: 't0',
    completedAt: 't1',
    vault: { bucket: 'v', prefix: 'dr/demo/s/' },
    compression: 'gzip',
    sources: [],
    parts: [],
    totals: { parts: 0, records: 0, bytes: 0, rawBytes: 0 },
  };
  const stored = (m: unknown, sha = manifestSha256(manifest)) =>
    Buffer.from(JSON.stringify({ manifest: m, sha256: sha, signature: { algorithm: 'ECDSA_SHA_256', keyId: 'k', value: 'c2ln' } }));

  it('hashes a canonical form: key order does not matter, content does', () => {
    const reordered = Object.fromEntries(Object.entries(manifest).reverse()) as Manifest;
    expect(canonicalManifest(reordered).equals(canonicalManifest(manifest))).toBe(true);
    expect(parseSignedManifest(stored(reordered)).sha256).toBe(manifestSha256(manifest));
  });

  it('rejects a manifest changed after signing, even by a member the schema does not know', () => {
    expect(() => parseSignedManifest(stored({ ...manifest, target: 'x' }))).toThrow(/changed after signing/);
    expect(() => parseSignedManifest(stored({ ...manifest, extra: 1 }))).toThrow(/changed after signing/);
    expect(() => parseSignedManifest(Buffer.from('nope'))).toThrow(expect.objectContaining({ name: 'ArtifactRejected' }));
  });
});

describe('smoke tests and quiesce', () => {
  it('compare count, content digest and samples with the manifest', () => {
    const source = {
      kind: 'table' as const,
      id: 'table:t',
      name: 't',
      physical: 't',
      keySchema: [],
      attributeDefinitions: [],
      records: 2,
      rawBytes: 10,
      contentDigest: 'a'.repeat(64),
      samples: [{ key: {}, sha256: 'b'.repeat(64) }],
    };
    expect(evaluateSmokeTests(source, { records: 2, contentDigest: 'a'.repeat(64), samples: ['b'.repeat(64)] }).every((r) => r.passed)).toBe(true);
    const failed = evaluateSmokeTests(source, { records: 1, contentDigest: 'c'.repeat(64), samples: [null] }).filter((r) => !r.passed);
    expect(failed.map((r) => r.name)).toEqual(['count', 'content-sha256', 'sample-read[0]']);
  });

  it('holds writers to quiesced tables and prefixes until the flag expires', () => {
    const flags = [{ target: 'demo', jobId: 'j', tables: ['t1'], prefixes: [{ bucket: 'b', prefix: 'notes/' }], until: '2030-01-01T00:00:00.000Z' }];
    const now = new Date('2029-01-01T00:00:00Z');
    expect(() => assertNotQuiesced(flags, { kind: 'table', table: 't1' }, now)).toThrow(expect.objectContaining({ name: 'TargetQuiesced' }));
    expect(() => assertNotQuiesced(flags, { kind: 'object', bucket: 'b', key: 'notes/x' }, now)).toThrow(/quiesced by DR job j/);
    expect(() => assertNotQuiesced(flags, { kind: 'object', bucket: 'b', key: 'other/x' }, now)).not.toThrow();
    expect(() => assertNotQuiesced(flags, { kind: 'table', table: 't1' }, new Date('2031-01-01T00:00:00Z'))).not.toThrow();
  });
});

describe('user-declared checks', () => {
  it('compare the declared attributes of an item, or the text of an object', () => {
    const item = DrCheck.parse({ kind: 'item', name: 'i', table: 'tbl', key: { id: 'a', n: 1 }, expect: { tag: 'v1', tags: ['a', 'b'] } });
    expect(keyFromPlain({ id: 'a', n: 1 })).toEqual({ id: { S: 'a' }, n: { N: '1' } });
    const stored = itemToPlain({ id: { S: 'a' }, tag: { S: 'v1' }, tags: { SS: ['b', 'a'] }, other: { BOOL: true } });
    expect(evaluateCheck(item, stored).passed).toBe(true);
    expect(evaluateCheck(item, { ...stored, tag: 'v2' })).toMatchObject({ passed: false, actual: { tag: 'v2', tags: ['a', 'b'] } });
    expect(evaluateCheck(item, undefined)).toMatchObject({ passed: false, actual: null });
    const object = DrCheck.parse({ kind: 'object', name: 'o', bucket: 'bkt', key: 'k', contains: 'hello' });
    expect(evaluateCheck(object, 'say hello').passed).toBe(true);
    expect(evaluateCheck(object, 'bye').passed).toBe(false);
    expect(DrCheck.safeParse({ kind: 'item', name: 'x', table: 'tbl', key: { id: 'a' }, typo: 1 }).success).toBe(false);
  });
});
