/**
 * `npm run bench:dr`: DR snapshot throughput against a plain streaming copy of the same bytes through
 * the same S3 stand-in, measured in the same run, round by round (these machines are noisy):
 *   A. the snapshot as the Snapshot step runs it (list + streamed reads → JSON Lines records, 1 MiB
 *      chunks → compression `auto` → SHA-256 per part → uploads into the versioned vault → manifest
 *      SHA-256 + KMS ECDSA signature), through the adapters the Lambda functions use;
 *   B. GetObject → PutObject of every object, body streamed, with the same client.
 * Target: A's throughput ≥ 0.7 × B's. Peak RSS over the start is printed per size; with
 * MAESTRO_BENCH_DR_LARGE=1 the snapshot of 1 GiB runs too (once, after the rounds), and its peak RSS
 * must stay within ± 64 MiB of the 10 MiB one's. The S3 and KMS stand-ins run in this process, so their
 * memory is in the RSS too.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsManifestSigner } from '../functions/adapters/kms-manifest-signer.ts';
import { S3ObjectData } from '../functions/adapters/s3-object-data.ts';
import { S3Vault } from '../functions/adapters/s3-vault.ts';
import { canonicalManifest } from '../functions/core/dr/manifest.ts';
import { objectRecords } from '../functions/core/dr/backup.ts';
import { PartWriter } from '../functions/core/dr/part-writer.ts';
import { MAESTRO_KMS_KEYS, ensureKmsKey, startKmsEmulator } from '../local/kms/kms-emulator.ts';
import { startS3Emulator } from '../local/s3/s3-emulator.ts';

const MiB = 1024 * 1024;
const OBJECT_BYTES = 4 * MiB;
const SMALL = 10 * MiB;
const LARGE = 1024 * MiB;
const ROUNDS = Number(process.env.BENCH_DR_ROUNDS ?? 5);
const compression = (process.env.MAESTRO_BENCH_DR_COMPRESSION ?? 'auto') as 'gzip' | 'none' | 'auto';
const RATIO_TARGET = 0.7;
const RSS_BOUND = 64 * MiB;

// Object bodies: slices of a random pool (incompressible, like encrypted or media data), made on demand.
const pool = randomBytes(OBJECT_BYTES + 4096);
const bodyOf = (index: number, bytes: number) => pool.subarray(index % 4096, (index % 4096) + bytes);

const dataDir = mkdtempSync(join(tmpdir(), 'maestro-bench-dr-'));
const s3Emulator = await startS3Emulator({ dataDir: join(dataDir, 's3') });
const kmsEmulator = await startKmsEmulator({ dataDir: join(dataDir, 'kms') });
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const s3 = new S3Client({ endpoint: s3Emulator.url, region: 'us-east-1', credentials, forcePathStyle: true });
const kms = new KMSClient({ endpoint: kmsEmulator.url, region: 'us-east-1', credentials });
await ensureKmsKey(kms, MAESTRO_KMS_KEYS.manifestSigning);
for (const bucket of ['bench-source', 'bench-vault', 'bench-copy']) {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}
const objects = new S3ObjectData({ client: s3 });
const vault = new S3Vault({ client: s3, bucket: 'bench-vault' });
const signer = new KmsManifestSigner({ client: kms, keyId: MAESTRO_KMS_KEYS.manifestSigning.alias });

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 10);

async function seed(total: number): Promise<{ prefix: string; count: number }> {
  const count = Math.ceil(total / OBJECT_BYTES);
  const prefix = `data-${total}/`;
  for (let i = 0; i < count; i += 1) {
    const Body = bodyOf(i, Math.min(OBJECT_BYTES, total - i * OBJECT_BYTES));
    await s3.send(new PutObjectCommand({ Bucket: 'bench-source', Key: `${prefix}${String(i).padStart(5, '0')}`, Body }));
  }
  return { prefix, count };
}

let run = 0;
/** A: the snapshot of one prefix into the vault, then the manifest's digest signed with KMS. */
async function snapshot(prefix: string) {
  run += 1;
  const writer = new PartWriter({
    partBytes: 8 * MiB, // the targets' default
    compression,
    keyOf: (i, c) => `run-${run}/${prefix}part-${i}${c === 'gzip' ? '.gz' : ''}`,
    open: (key) => vault.openUpload(key),
  });
  const stats = await writer.writeSource(`prefix:${prefix}`, objectRecords(objects, 'bench-source', prefix));
  const parts = writer.parts;
  const digest = createHash('sha256')
    .update(canonicalManifest({ parts, stats } as never))
    .digest();
  await signer.sign(digest);
  return { parts, stats };
}

/** B: every object streamed from GetObject into PutObject, one after the other. */
async function plainCopy(prefix: string) {
  run += 1;
  for await (const listed of objects.list('bench-source', prefix)) {
    const out = await s3.send(new GetObjectCommand({ Bucket: 'bench-source', Key: listed.key }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'bench-copy', Key: `run-${run}/${listed.key}`, Body: out.Body as Readable, ContentLength: out.ContentLength }),
    );
  }
}

async function timed(fn: () => Promise<unknown>): Promise<{ ms: number; peak: number; base: number }> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  peakRss = base;
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return { ms, peak: peakRss, base };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mibps = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`;
const rows: string[][] = [];
let failed = false;
try {
  const small = await seed(SMALL);
  const snapshotMs: number[] = [];
  const copyMs: number[] = [];
  const smallPeaks: number[] = [];
  let lastParts: { compression?: string }[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    // Interleaved, the order alternating, so both see the same machine.
    const order = round % 2 === 0 ? ['copy', 'snapshot'] : ['snapshot', 'copy'];
    for (const which of order) {
      if (which === 'copy') copyMs.push((await timed(() => plainCopy(small.prefix))).ms);
      else {
        const measured = await timed(async () => {
          const { parts, stats } = await snapshot(small.prefix);
          if (stats.records !== Math.ceil(SMALL / (1024 * 1024))) throw new Error(`the snapshot saw ${stats.records} records`);
          lastParts = parts;
        });
        snapshotMs.push(measured.ms);
        smallPeaks.push(measured.peak - measured.base);
      }
    }
  }
  const a = median(snapshotMs);
  const b = median(copyMs);
  const ratio = b / a;
  if (ratio < RATIO_TARGET) failed = true;
  const stored = lastParts.map((p) => p.compression ?? compression).join('+');
  rows.push([
    `10 MiB (${small.count} objects of 4 MiB, random bytes; ${lastParts.length} part(s) stored ${stored})`,
    mibps(SMALL, a),
    mibps(SMALL, b),
    `${ratio.toFixed(2)} (target ≥ ${RATIO_TARGET})`,
    `+${(median(smallPeaks) / MiB).toFixed(0)} MiB`,
  ]);
  if (process.env.MAESTRO_BENCH_DR_LARGE === '1') {
    const large = await seed(LARGE);
    const measured = await timed(() => snapshot(large.prefix));
    const over = measured.peak - measured.base;
    const drift = over - median(smallPeaks);
    if (Math.abs(drift) > RSS_BOUND) failed = true;
    rows.push([
      `1 GiB (${large.count} objects, once)`,
      mibps(LARGE, measured.ms),
      '',
      '',
      `+${(over / MiB).toFixed(0)} MiB (${drift >= 0 ? '+' : ''}${(drift / MiB).toFixed(0)} MiB against 10 MiB; bound ± 64 MiB)`,
    ]);
  }
} finally {
  clearInterval(sampler);
  s3.destroy();
  kms.destroy();
  await s3Emulator.stop();
  await kmsEmulator.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const header = [
  `DR snapshot (A) vs GetObject→PutObject copy (B), same stand-in, median of ${ROUNDS} interleaved rounds`,
  'A',
  'B',
  'A/B throughput',
  'peak RSS of A over its start',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
if (failed) process.exitCode = 1;
