/**
 * `npm run bench:dr`: DR snapshot throughput. The real pipeline (list + read objects from the S3
 * stand-in → JSON Lines → gzip → SHA-256 per part → streaming multipart upload into the versioned
 * vault → manifest SHA-256 + KMS ECDSA signature) against node's SHA-256 over the same bytes, and the
 * process's peak RSS. 10 MiB always; 500 MiB with MAESTRO_BENCH_DR_LARGE=1 (about a minute here).
 * The S3 and KMS stand-ins run in this process, so their memory is in the RSS too.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsManifestSigner } from '../functions/adapters/kms-manifest-signer.ts';
import { S3ObjectData } from '../functions/adapters/s3-object-data.ts';
import { S3Vault } from '../functions/adapters/s3-vault.ts';
import { canonicalManifest } from '../functions/core/dr/manifest.ts';
import { PartWriter } from '../functions/core/dr/part-writer.ts';
import { objectRecordLine } from '../functions/core/dr/record-codec.ts';
import { MAESTRO_KMS_KEYS, ensureKmsKey, startKmsEmulator } from '../local/kms/kms-emulator.ts';
import { startS3Emulator } from '../local/s3/s3-emulator.ts';

const MiB = 1024 * 1024;
const OBJECT_BYTES = 4 * MiB;
const sizes = [10 * MiB, ...(process.env.MAESTRO_BENCH_DR_LARGE === '1' ? [500 * MiB] : [])];
const compression = (process.env.MAESTRO_BENCH_DR_COMPRESSION ?? 'gzip') as 'gzip' | 'none';

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
for (const bucket of ['bench-source', 'bench-vault']) {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}
const objects = new S3ObjectData({ client: s3 });
const vault = new S3Vault({ client: s3, bucket: 'bench-vault' });
const signer = new KmsManifestSigner({ client: kms, keyId: MAESTRO_KMS_KEYS.manifestSigning.alias });

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

const rows: string[][] = [];
try {
  for (const total of sizes) {
    const count = Math.ceil(total / OBJECT_BYTES);
    const prefix = `data-${total}/`;
    for (let i = 0; i < count; i += 1) {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'bench-source',
          Key: `${prefix}${String(i).padStart(5, '0')}`,
          Body: bodyOf(i, Math.min(OBJECT_BYTES, total - i * OBJECT_BYTES)),
        }),
      );
    }
    global.gc?.();
    const baseRss = process.memoryUsage().rss;
    peakRss = baseRss;

    // A: snapshot + hash + sign, through the adapters the Lambda functions use.
    const startA = performance.now();
    const writer = new PartWriter({ partBytes: 64 * MiB, compression, keyOf: (i) => `${prefix}part-${i}`, open: (key) => vault.openUpload(key) });
    async function* records() {
      for await (const listed of objects.list('bench-source', prefix)) {
        const object = (await objects.read('bench-source', listed.key))!;
        yield { line: objectRecordLine({ key: listed.key, metadata: object.metadata, contentType: object.contentType, body: object.body }), key: listed.key };
      }
    }
    const stats = await writer.writeSource(`prefix:${prefix}`, records());
    const digest = createHash('sha256')
      .update(canonicalManifest({ parts: writer.parts, stats } as never))
      .digest();
    await signer.sign(digest);
    const snapshotMs = performance.now() - startA;
    const snapshotPeak = peakRss;

    // B: node's SHA-256 over the same bytes.
    const startB = performance.now();
    const hash = createHash('sha256');
    for (let i = 0; i < count; i += 1) hash.update(bodyOf(i, Math.min(OBJECT_BYTES, total - i * OBJECT_BYTES)));
    hash.digest();
    const hashMs = performance.now() - startB;

    const mibps = (ms: number) => `${(total / MiB / (ms / 1000)).toFixed(1)} MiB/s`;
    rows.push([
      `${total / MiB} MiB (${count} objects, ${writer.parts.length} part(s), ${compression})`,
      mibps(snapshotMs),
      mibps(hashMs),
      (snapshotMs / hashMs).toFixed(1),
      `${(snapshotPeak / MiB).toFixed(0)} MiB (+${((snapshotPeak - baseRss) / MiB).toFixed(0)})`,
    ]);
    if (stats.records !== count) throw new Error(`snapshot saw ${stats.records} of ${count} objects`);
  }
} finally {
  clearInterval(sampler);
  s3.destroy();
  kms.destroy();
  await s3Emulator.stop();
  await kmsEmulator.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const header = ['DR snapshot+hash+sign (A) vs node sha256 of the same bytes (B)', 'A', 'B', 'A/B time', 'peak RSS (over start)'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
