/**
 * `npm run bench:dr` (and the last step of `npm run bench`): DR snapshot throughput against a plain
 * streaming copy of the same bytes through the same S3 stand-in, measured side by side in one run:
 *   A. the snapshot as the Snapshot step runs it (list + streamed reads → JSON Lines records, 1 MiB
 *      chunks → compression `auto` → SHA-256 per part → uploads into the versioned vault → manifest
 *      SHA-256 + KMS ECDSA signature), through the adapters the Lambda functions use;
 *   B. GetObject → PutObject of every object, body streamed, with the same client.
 * Each round runs A and B back to back (the order alternating); the figure is the median over the
 * rounds of each round's B time / A time (these machines are noisy: a round's two arms see the same
 * load), after one warm-up round. Target ≥ 0.7.
 *
 * The S3 and KMS stand-ins run in a child process (bench/dr-stand-ins.ts), so this process's RSS is
 * the snapshot's own memory. With MAESTRO_BENCH_DR_LARGE=1 a snapshot of 1 GiB runs after the rounds;
 * its peak RSS must stay within ± 64 MiB of the 10 MiB snapshot's.
 *
 * Knobs: BENCH_DR_ROUNDS (7), BENCH_DR_LARGE_MIB (1024), MAESTRO_BENCH_DR_COMPRESSION (auto).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
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
import { MAESTRO_KMS_KEYS, ensureKmsKey } from '../local/kms/kms-emulator.ts';

const MiB = 1024 * 1024;
const OBJECT_BYTES = 4 * MiB;
const SMALL = 10 * MiB;
const LARGE = Number(process.env.BENCH_DR_LARGE_MIB ?? 1024) * MiB;
const ROUNDS = Number(process.env.BENCH_DR_ROUNDS ?? 7);
const compression = (process.env.MAESTRO_BENCH_DR_COMPRESSION ?? 'auto') as 'gzip' | 'none' | 'auto';
const RATIO_TARGET = 0.7;
const RSS_BOUND = 64 * MiB;

// Object bodies: slices of a random pool (incompressible, like encrypted or media data), made on demand.
const pool = randomBytes(OBJECT_BYTES + 4096);
const bodyOf = (index: number, bytes: number) => pool.subarray(index % 4096, (index % 4096) + bytes);

const dataDir = mkdtempSync(join(tmpdir(), 'maestro-bench-dr-'));
const standIns: ChildProcess = fork(new URL('./dr-stand-ins.ts', import.meta.url), [dataDir], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const fromStandIns = <T>(type: string) =>
  new Promise<T>((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      standIns.off('message', onMessage);
      standIns.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`the stand-ins exited (${code})`));
    standIns.on('message', onMessage);
    standIns.once('exit', onExit);
  });
const endpoints = await fromStandIns<{ s3: string; kms: string }>('ready');
/** The stand-ins' CPU time so far (µs). */
const standInsCpu = async () => {
  const answer = fromStandIns<{ cpu: number }>('cpu');
  standIns.send({ type: 'cpu' });
  return (await answer).cpu;
};
/** The stand-ins' own peak RSS since the last question. */
const standInsPeak = async () => {
  const answer = fromStandIns<{ peak: number }>('rss');
  standIns.send({ type: 'rss' });
  return (await answer).peak;
};

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', credentials, forcePathStyle: true });
const kms = new KMSClient({ endpoint: endpoints.kms, region: 'us-east-1', credentials });
await ensureKmsKey(kms, MAESTRO_KMS_KEYS.manifestSigning);
for (const bucket of ['bench-source', 'bench-vault', 'bench-copy']) {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}
const objects = new S3ObjectData({ client: s3 });
const vault = new S3Vault({ client: s3, bucket: 'bench-vault' });
const signer = new KmsManifestSigner({ client: kms, keyId: MAESTRO_KMS_KEYS.manifestSigning.alias });

// Peak RSS from the kernel's high-water mark (VmHWM), reset before each measured snapshot by writing 5
// to /proc/self/clear_refs: exact, and no sampling timer competing with the arms being timed.
const status = () => readFileSync('/proc/self/status', 'utf8');
const peakRss = () => Number(/VmHWM:\s+(\d+) kB/.exec(status())?.[1]) * 1024;
const resetPeakRss = () => writeFileSync('/proc/self/clear_refs', '5');

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

/** One arm timed, with this process's and the stand-ins' CPU time (ms) while it ran. */
async function timed(fn: () => Promise<unknown>): Promise<{ ms: number; cpu: number; standInsCpu: number }> {
  const standIns0 = await standInsCpu();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpu: (cpu.user + cpu.system) / 1000, standInsCpu: ((await standInsCpu()) - standIns0) / 1000 };
}

/** The peak RSS of one run of `fn` over this process's RSS at its start, after a full GC. */
async function peakOver(fn: () => Promise<unknown>): Promise<{ over: number; peak: number; ms: number }> {
  global.gc?.();
  global.gc?.();
  const base = process.memoryUsage.rss();
  resetPeakRss();
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  const peak = peakRss();
  return { over: peak - base, peak, ms };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mibps = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
const signed = (bytes: number) => `${bytes >= 0 ? '+' : '−'}${mib(Math.abs(bytes))}`;
const load = () => loadavg()[0].toFixed(1);
const rows: string[][] = [];
const notes: string[] = [];
let failed = false;
try {
  const small = await seed(SMALL);
  const arms = { snapshot: [] as Awaited<ReturnType<typeof timed>>[], copy: [] as Awaited<ReturnType<typeof timed>>[] };
  const ratios: number[] = [];
  let lastParts: { compression?: string }[] = [];
  const loadBefore = load();
  const snapshotSmall = async () => {
    const { parts, stats } = await snapshot(small.prefix);
    if (stats.records !== Math.ceil(SMALL / MiB)) throw new Error(`the snapshot saw ${stats.records} records`);
    lastParts = parts;
  };
  // Round 0 warms both paths up (JIT, connections) and is not counted.
  for (let round = 0; round <= ROUNDS; round += 1) {
    const order = round % 2 === 0 ? (['copy', 'snapshot'] as const) : (['snapshot', 'copy'] as const);
    const measured: Partial<Record<'copy' | 'snapshot', Awaited<ReturnType<typeof timed>>>> = {};
    for (const which of order) measured[which] = await timed(which === 'copy' ? () => plainCopy(small.prefix) : snapshotSmall);
    if (round === 0) continue;
    arms.snapshot.push(measured.snapshot!);
    arms.copy.push(measured.copy!);
    ratios.push(measured.copy!.ms / measured.snapshot!.ms);
  }
  const ratio = median(ratios);
  const sorted = [...ratios].sort((x, y) => x - y);
  if (ratio < RATIO_TARGET) failed = true;
  const stored = lastParts.map((p) => p.compression ?? compression).join('+');
  const of = (arm: Awaited<ReturnType<typeof timed>>[], key: 'ms' | 'cpu' | 'standInsCpu') => median(arm.map((m) => m[key]));
  rows.push([
    `DR snapshot / plain copy, 10 MiB (${small.count} objects of 4 MiB, random bytes; ${lastParts.length} parts stored ${stored})`,
    `${mibps(SMALL, of(arms.snapshot, 'ms'))} vs ${mibps(SMALL, of(arms.copy, 'ms'))}`,
    `≥ ${RATIO_TARGET}`,
    `${ratio.toFixed(2)} (rounds ${sorted[0].toFixed(2)}–${sorted[sorted.length - 1].toFixed(2)})`,
    ratio >= RATIO_TARGET ? 'yes' : 'NO',
  ]);
  notes.push(
    `${ROUNDS} rounds of snapshot and copy back to back (order alternating, after a warm-up round); ratio = median of each round's copy time / snapshot time; load average ${loadBefore} → ${load()} on ${cpus().length} cores.`,
    `CPU per arm (medians): snapshot ${of(arms.snapshot, 'cpu').toFixed(0)} ms here + ${of(arms.snapshot, 'standInsCpu').toFixed(0)} ms in the stand-ins, copy ${of(arms.copy, 'cpu').toFixed(0)} ms + ${of(arms.copy, 'standInsCpu').toFixed(0)} ms.`,
  );
  // Memory: the large data is seeded first, so both sizes are measured in the same state; then the
  // snapshot of 10 MiB three times (median) and the large one once, each from a full GC. The figure is
  // the difference of their peak RSS (kernel high-water mark); the rise over each start is printed too.
  const large = process.env.MAESTRO_BENCH_DR_LARGE === '1' ? await seed(LARGE) : undefined;
  await standInsPeak();
  const smallRuns: Awaited<ReturnType<typeof peakOver>>[] = [];
  for (let i = 0; i < 3; i += 1) smallRuns.push(await peakOver(snapshotSmall));
  const standInsSmall = await standInsPeak();
  const smallPeak = median(smallRuns.map((r) => r.peak));
  const over = median(smallRuns.map((r) => r.over));
  if (large) {
    const measured = await peakOver(() => snapshot(large.prefix));
    const standInsLarge = await standInsPeak();
    const drift = measured.peak - smallPeak;
    if (Math.abs(drift) > RSS_BOUND) failed = true;
    rows.push([
      `DR snapshot peak RSS, ${mib(LARGE)} (${large.count} objects) vs 10 MiB`,
      `${mib(measured.peak)} vs ${mib(smallPeak)} (${signed(measured.over)} vs ${signed(over)} over their starts; ${mibps(LARGE, measured.ms)})`,
      `± ${mib(RSS_BOUND)}`,
      signed(drift),
      Math.abs(drift) <= RSS_BOUND ? 'yes' : 'NO',
    ]);
    notes.push(
      `The stand-ins' own process (not counted above) peaked at ${mib(standInsSmall)} during the 10 MiB snapshots, ${mib(standInsLarge)} during the large one.`,
    );
  } else {
    rows.push(['DR snapshot peak RSS, 10 MiB', `${mib(smallPeak)} (${signed(over)} over its start)`, '(the 1 GiB check: MAESTRO_BENCH_DR_LARGE=1)', '-', '-']);
  }
} finally {
  s3.destroy();
  kms.destroy();
  standIns.send({ type: 'stop' });
  await new Promise((resolve) => standIns.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}

const header = ['DR figure', 'measured', 'target', 'ratio', 'met'];
const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ');
console.log('\nDR snapshot against a plain GetObject → PutObject copy through the same S3 stand-in (its own process).\n');
console.log(line(header));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const row of rows) console.log(line(row));
console.log('');
for (const note of notes) console.log(note);
if (failed) process.exitCode = 1;
