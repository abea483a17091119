import { createHash } from 'node:crypto';
import { DrJobNotFound, QuiesceExpired, TransientError } from '../errors.ts';
import { DrJobState } from './model.ts';
import type { DrJob } from './model.ts';
import { MANIFEST_FORMAT, SIGNING_ALGORITHM, canonicalManifest, manifestKey, partKey, vaultPrefix } from './manifest.ts';
import type { Manifest, ManifestPart, ManifestSource, SignedManifest } from './manifest.ts';
import { OBJECT_CHUNK_BYTES, fixedChunks, readAhead, readAll } from './object-chunks.ts';
import { LinePool } from './line-pool.ts';
import { PartWriter } from './part-writer.ts';
import type { SnapshotRecord } from './part-writer.ts';
import { RESTORED_COPIES_PREFIX, liveCopy } from './pointer.ts';
import type { DrDeps, ObjectData } from './ports.ts';
import { itemKey, objectRecordBytes, tableRecordLine } from './record-codec.ts';
import type { ObjectRecord } from './record-codec.ts';
import { findTarget } from './targets.ts';
import { stepStarted, stepSucceeded } from './jobs.ts';

export async function loadJob(deps: DrDeps, jobId: string): Promise<DrJob> {
  const job = await deps.repo.getJob(jobId);
  if (!job) throw new DrJobNotFound(`DR job ${jobId} does not exist`, { field: 'id' });
  return job;
}

/** Quiesce: resolve the live copy and hold its writers off, for at most the target's bound. */
export async function quiesceTarget(deps: DrDeps, jobId: string): Promise<{ until: string }> {
  const job = await loadJob(deps, jobId);
  const target = findTarget(deps.targets, job.target);
  const source = liveCopy(target, await deps.repo.getPointer(target.name));
  const now = deps.clock();
  const until = new Date(now.getTime() + target.maxQuiesceSeconds * 1000).toISOString();
  await stepStarted(deps, jobId, 'Quiesce', undefined, `holding writes to ${target.name} (copy ${source.copyId}) for at most ${target.maxQuiesceSeconds} s`);
  await deps.repo.quiesce({
    target: target.name,
    jobId,
    tables: Object.values(source.tables),
    prefixes: source.prefixes.map((p) => ({ bucket: p.bucket, prefix: p.physicalPrefix })),
    until,
  });
  await stepSucceeded(deps, jobId, 'Quiesce', `writes to ${target.name} are held until ${until} at the latest`, {
    state: DrJobState.QUIESCED,
    source,
    startedAt: now.toISOString(),
    quiescedUntil: until,
  });
  return { until };
}

async function* mapRecords<T>(items: AsyncIterable<T>, map: (item: T) => SnapshotRecord): AsyncGenerator<SnapshotRecord> {
  for await (const item of items) yield map(item);
}

/** Objects read ahead of the one being written: their requests (and small bodies) are under way meanwhile. */
const OBJECTS_READ_AHEAD = 4;
/** A pooled line's size: a full chunk's base64 and room for its key and metadata (a longer line is a fresh buffer). */
const OBJECT_LINE_BYTES = 4 * Math.ceil(OBJECT_CHUNK_BYTES / 3) + 16 * 1024;
/** Pooled lines per source: about what two parts of 8 MiB in flight hold, plus the one being encoded. */
const POOLED_LINES = 16;

/** The records of a prefix's objects, as the Snapshot step writes them (exported for bench/dr.ts). */
export async function* objectRecords(objects: ObjectData, bucket: string, physicalPrefix: string): AsyncGenerator<SnapshotRecord> {
  const skipRestoredCopies = !physicalPrefix.startsWith(RESTORED_COPIES_PREFIX);
  async function* listed() {
    for await (const object of objects.list(bucket, physicalPrefix)) {
      if (!(skipRestoredCopies && object.key.startsWith(RESTORED_COPIES_PREFIX))) yield object;
    }
  }
  // Small objects are read whole ahead of time (at most OBJECTS_READ_AHEAD × OBJECT_CHUNK_BYTES held);
  // a large one is opened ahead and then streamed chunk by chunk.
  const opened = readAhead(listed(), OBJECTS_READ_AHEAD, async (object) => {
    const open = await objects.open(bucket, object.key);
    if (!open || open.size <= OBJECT_CHUNK_BYTES) return { key: object.key, open, whole: open && (await readAll(open.body)) };
    return { key: object.key, open, whole: undefined };
  });
  // A chunk is joined in one scratch buffer and encoded into a pooled line at once (it is not read
  // after that), and the part writer hands each line back once its part is stored: no fresh 1 MiB
  // buffers per chunk, so a long snapshot's dead buffers do not pile up between collections.
  const scratch = Buffer.allocUnsafe(OBJECT_CHUNK_BYTES);
  const lines = new LinePool({ capacity: OBJECT_LINE_BYTES, max: POOLED_LINES });
  const encode = (object: ObjectRecord): Pick<SnapshotRecord, 'line' | 'release'> => {
    let release: (() => void) | undefined;
    const line = objectRecordBytes(object, (bytes) => {
      const taken = lines.take(bytes);
      release = taken.release;
      return taken.buffer;
    });
    return { line, release };
  };
  for await (const { key: physicalKey, open, whole } of opened) {
    if (!open) continue; // deleted since the listing (cannot happen while quiesced, but harmless)
    const key = physicalKey.slice(physicalPrefix.length);
    const record = { key, contentType: open.contentType, metadata: open.metadata };
    if (whole) {
      yield { ...encode({ ...record, body: whole }), key };
      continue;
    }
    let offset = 0;
    for await (const body of fixedChunks(open.body, OBJECT_CHUNK_BYTES, scratch)) {
      yield { ...encode({ ...record, body, offset, size: open.size }), key: { key, offset } };
      offset += body.length;
    }
    if (offset !== open.size) throw new TransientError(`s3://${bucket}/${physicalKey} ended after ${offset} of its ${open.size} bytes`);
  }
}

/**
 * Snapshot: stream every table and prefix of the quiesced copy into parts in the vault, SHA-256 per
 * part; stops if the quiesce bound passes. Lifts the quiesce in `finally`, whatever happens.
 */
export async function snapshotTarget(deps: DrDeps, jobId: string): Promise<{ parts: number; records: number }> {
  const job = await loadJob(deps, jobId);
  const target = findTarget(deps.targets, job.target);
  const source = job.source ?? liveCopy(target, await deps.repo.getPointer(target.name));
  const until = Date.parse(job.quiescedUntil ?? deps.clock().toISOString());
  try {
    await stepStarted(
      deps,
      jobId,
      'Snapshot',
      DrJobState.SNAPSHOTTING,
      `streaming ${Object.keys(source.tables).length} table(s) and ${source.prefixes.length} prefix(es) into parts`,
    );
    const writer = new PartWriter({
      partBytes: target.partBytes,
      compression: target.compression,
      keyOf: (index, compression) => partKey(target.name, job.id, index, compression),
      open: (key) => deps.vault.openUpload(key),
      checkpoint: () => {
        if (deps.clock().getTime() > until)
          throw new QuiesceExpired(`the snapshot of ${target.name} outlived its quiesce window (${target.maxQuiesceSeconds} s)`);
      },
    });
    const sources: ManifestSource[] = [];
    for (const [logical, physical] of Object.entries(source.tables)) {
      const schema = await deps.tables.describe(physical);
      const keyAttributes = schema.keySchema.map((k) => k.AttributeName);
      const id = `table:${logical}`;
      const stats = await writer.writeSource(
        id,
        mapRecords(deps.tables.scan(physical), (item) => ({ line: tableRecordLine(item), key: itemKey(item, keyAttributes) })),
      );
      sources.push({ kind: 'table', id, name: logical, physical, keySchema: schema.keySchema, attributeDefinitions: schema.attributeDefinitions, ...stats });
    }
    for (const p of source.prefixes) {
      const id = `prefix:${p.bucket}/${p.prefix}`;
      const stats = await writer.writeSource(id, objectRecords(deps.objects, p.bucket, p.physicalPrefix));
      sources.push({
        kind: 'prefix',
        id,
        bucket: p.bucket,
        prefix: p.prefix,
        physicalPrefix: p.physicalPrefix,
        objectChunkBytes: OBJECT_CHUNK_BYTES,
        ...stats,
      });
    }
    const records = sources.reduce((sum, s) => sum + s.records, 0);
    const bytes = writer.parts.reduce((sum, p) => sum + p.bytes, 0);
    await stepSucceeded(
      deps,
      jobId,
      'Snapshot',
      `${records} record(s) in ${writer.parts.length} part(s), ${bytes} bytes stored`,
      { parts: writer.parts, sources },
      { records, parts: writer.parts.length, bytes },
    );
    return { parts: writer.parts.length, records };
  } finally {
    await deps.repo.unquiesce(target.name, jobId);
  }
}

/** Unquiesce: lift the flag (idempotent); the workflow runs it on success and on every failure path. */
export async function unquiesceTarget(deps: DrDeps, jobId: string): Promise<void> {
  const job = await loadJob(deps, jobId);
  await deps.repo.unquiesce(job.target, jobId);
  if (job.steps.some((s) => s.name === 'Unquiesce' && s.state !== 'SUCCEEDED')) {
    await stepSucceeded(deps, jobId, 'Unquiesce', `writes to ${job.target} are open again`);
  }
}

/** SignManifest: build the manifest, SHA-256 over its canonical form, sign it with KMS, store it in the vault. */
export async function signManifest(deps: DrDeps, jobId: string): Promise<{ snapshotId: string; sha256: string; location: string; manifestVersionId?: string }> {
  const job = await loadJob(deps, jobId);
  const target = findTarget(deps.targets, job.target);
  await stepStarted(deps, jobId, 'SignManifest', DrJobState.SIGNING, 'signing the manifest with the KMS key');
  const parts = (job.parts ?? []) as ManifestPart[];
  const sources = (job.sources ?? []) as ManifestSource[];
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    snapshotId: job.id,
    target: target.name,
    reason: job.reason,
    requestedBy: job.requestedBy,
    startedAt: job.startedAt ?? job.createdAt,
    completedAt: deps.clock().toISOString(),
    vault: { bucket: deps.vault.bucket, prefix: vaultPrefix(target.name, job.id) },
    compression: target.compression,
    sources,
    parts,
    totals: {
      parts: parts.length,
      records: sources.reduce((sum, s) => sum + s.records, 0),
      bytes: parts.reduce((sum, p) => sum + p.bytes, 0),
      rawBytes: parts.reduce((sum, p) => sum + p.rawBytes, 0),
    },
  };
  const digest = createHash('sha256').update(canonicalManifest(manifest)).digest();
  const { signature, keyId } = await deps.signer.sign(digest);
  const signed: SignedManifest = {
    manifest,
    sha256: digest.toString('hex'),
    signature: { algorithm: SIGNING_ALGORITHM, keyId, value: signature.toString('base64') },
  };
  const key = manifestKey(target.name, job.id);
  const stored = await deps.vault.putSmall(key, Buffer.from(`${JSON.stringify(signed, null, 2)}\n`), 'application/json');
  const result = {
    snapshotId: job.id,
    sha256: signed.sha256,
    location: `s3://${deps.vault.bucket}/${key}`,
    manifestVersionId: stored.versionId,
    ...manifest.totals,
  };
  await stepSucceeded(
    deps,
    jobId,
    'SignManifest',
    `manifest ${signed.sha256} signed with ${keyId} and stored at ${result.location}`,
    { verified: true, result, parts: undefined, sources: undefined },
    result,
  );
  return { snapshotId: result.snapshotId, sha256: result.sha256, location: result.location, manifestVersionId: result.manifestVersionId };
}
