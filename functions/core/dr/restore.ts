import { createHash } from 'node:crypto';
import { ArtifactRejected, DrInvalidTransition, DrTargetBusy, SmokeTestFailed } from '../errors.ts';
import { canonicalJson } from '../canonical-json.ts';
import { loadJob } from './backup.ts';
import { ContentDigest } from './content-digest.ts';
import { stepStarted, stepSucceeded } from './jobs.ts';
import { evidenceKey, manifestKey, parseSignedManifest, partCompression } from './manifest.ts';
import type { ManifestPart, ManifestSource, SignedManifest } from './manifest.ts';
import { DrJobKind, DrJobState, RestoreMode } from './model.ts';
import type { DrJob, SmokeTestResult } from './model.ts';
import { verifyPartBytes, readPartLines } from './part-reader.ts';
import { Bounded, inParallel } from './concurrency.ts';
import { ChunkAssembler, fixedChunks, readAll } from './object-chunks.ts';
import { flipTo, liveCopy, restoredCopy, sharesResources } from './pointer.ts';
import type { DataCopy } from './pointer.ts';
import type { DrDeps } from './ports.ts';
import { itemFromJson, itemToPlain, keyFromPlain, objectRecordBytes, parseObjectRecord, parseTableRecord, tableRecordLine } from './record-codec.ts';
import type { DynamoItem } from './record-codec.ts';
import { evaluateCheck, evaluateSmokeTests, failedTests } from './smoke-tests.ts';
import { findTarget } from './targets.ts';

const BATCH = 25;
/** Batches or objects written at once while a part is read. */
const WRITES_AT_ONCE = 4;
/** Parts whose size and SHA-256 are checked at once while staging. */
const PARTS_VERIFIED_AT_ONCE = 4;

/** The manifest a restore names: by snapshot id (its latest version) or by the version id of the manifest object. */
async function locateManifest(deps: DrDeps, job: DrJob): Promise<{ key: string; versionId?: string }> {
  if (job.manifestVersionId) {
    const key = await deps.vault.findVersion(`dr/${job.target}/`, job.manifestVersionId);
    if (!key)
      throw new ArtifactRejected(`no manifest version ${job.manifestVersionId} in the vault for ${job.target}`, { details: { check: 'manifest-missing' } });
    return { key, versionId: job.manifestVersionId };
  }
  return { key: manifestKey(job.target, job.snapshotId!) };
}

async function readManifest(deps: DrDeps, key: string, versionId?: string): Promise<{ signed: SignedManifest; versionId?: string }> {
  const stored = await deps.vault.readSmall(key, versionId);
  if (!stored) throw new ArtifactRejected(`the manifest ${key} is not in the vault`, { details: { check: 'manifest-missing' } });
  return { signed: parseSignedManifest(stored.body), versionId: stored.versionId ?? versionId };
}

/** The staged manifest again (pinned to the version Stage verified), checked against the digest Stage recorded. */
async function stagedManifest(deps: DrDeps, job: DrJob): Promise<SignedManifest> {
  const report = job.report as { manifestKey: string; manifestVersionId?: string; manifestSha256: string };
  const { signed } = await readManifest(deps, report.manifestKey, report.manifestVersionId);
  if (signed.sha256 !== report.manifestSha256)
    throw new ArtifactRejected('the manifest changed after it was staged', { details: { check: 'manifest-sha256' } });
  return signed;
}

/**
 * STAGED: prove the artifact before anything is written. The manifest's digest must match its
 * canonical form, its signature must verify with the trusted key, and every part must be present
 * with its recorded size and SHA-256. Anything else is ArtifactRejected.
 */
export async function stageRestore(deps: DrDeps, jobId: string): Promise<{ dryRun: boolean; mode: string }> {
  const job = await loadJob(deps, jobId);
  const target = findTarget(deps.targets, job.target);
  await stepStarted(deps, jobId, 'Stage', undefined, 'verifying the manifest signature and every part before writing anything');
  const location = await locateManifest(deps, job);
  const { signed, versionId } = await readManifest(deps, location.key, location.versionId);
  const manifest = signed.manifest;
  if (manifest.target !== target.name) {
    throw new ArtifactRejected(`the manifest is a backup of ${manifest.target}, not of ${target.name}`, { details: { check: 'target' } });
  }
  if (job.snapshotId && manifest.snapshotId !== job.snapshotId) {
    throw new ArtifactRejected(`the manifest names snapshot ${manifest.snapshotId}, not ${job.snapshotId}`, { details: { check: 'snapshot-id' } });
  }
  const valid = await deps.signer.verify(Buffer.from(signed.sha256, 'hex'), Buffer.from(signed.signature.value, 'base64'));
  if (!valid) {
    throw new ArtifactRejected(`the manifest signature (key ${signed.signature.keyId}) does not verify with the trusted key ${deps.signer.keyId}`, {
      details: { check: 'signature' },
    });
  }
  checkPartList(manifest.parts, manifest.sources);
  await inParallel(manifest.parts, PARTS_VERIFIED_AT_ONCE, async (part) => {
    const body = await deps.vault.openRead(part.key);
    if (!body) throw new ArtifactRejected(`part ${part.key} is missing from the vault`, { details: { check: 'part-missing', part: part.key } });
    await verifyPartBytes(part, body);
  });
  const report = {
    manifestKey: location.key,
    manifestVersionId: versionId,
    manifestSha256: signed.sha256,
    signedBy: signed.signature.keyId,
    snapshotCompletedAt: manifest.completedAt,
    wouldWrite: manifest.sources.map((s) => ({ source: s.id, records: s.records, bytes: s.rawBytes })),
    parts: manifest.totals.parts,
    records: manifest.totals.records,
    bytes: manifest.totals.rawBytes,
    storedBytes: manifest.totals.bytes,
  };
  await stepSucceeded(
    deps,
    jobId,
    'Stage',
    `signature and ${manifest.parts.length} part hash(es) verified: ${manifest.totals.records} record(s), ${manifest.totals.rawBytes} bytes to restore`,
    { state: DrJobState.STAGED, verified: true, report, snapshotId: manifest.snapshotId, manifestVersionId: versionId },
    report,
  );
  return { dryRun: job.dryRun === true, mode: job.mode ?? RestoreMode.restore };
}

function checkPartList(parts: readonly ManifestPart[], sources: readonly ManifestSource[]): void {
  parts.forEach((part, index) => {
    if (part.index !== index) throw new ArtifactRejected(`the manifest's part ${index} is numbered ${part.index}`, { details: { check: 'part-list' } });
  });
  for (const source of sources) {
    const records = parts.filter((p) => p.source === source.id).reduce((sum, p) => sum + p.records, 0);
    if (records !== source.records) {
      throw new ArtifactRejected(`source ${source.id} counts ${source.records} record(s) but its parts hold ${records}`, { details: { check: 'part-list' } });
    }
  }
}

/** APPLYING: write the verified parts into a new copy (new tables, a prefix of its own), never the live one. */
export async function applyRestore(deps: DrDeps, jobId: string): Promise<{ copyId: string }> {
  const job = await loadJob(deps, jobId);
  const target = findTarget(deps.targets, job.target);
  const signed = await stagedManifest(deps, job);
  const copy = job.copy ?? restoredCopy(target, job.id);
  const live = liveCopy(target, await deps.repo.getPointer(target.name));
  if (sharesResources(copy, live)) throw new DrTargetBusy(`copy ${copy.copyId} overlaps the live copy ${live.copyId}; refusing to write over live data`);
  await stepStarted(deps, jobId, 'Apply', DrJobState.APPLYING, `restoring ${signed.manifest.totals.records} record(s) into new copy ${copy.copyId}`);
  await deps.repo.updateJob(jobId, () => ({ job: { copy }, events: [] }));
  const { manifest } = signed;
  let written = 0;
  for (const source of manifest.sources) {
    const parts = manifest.parts.filter((p) => p.source === source.id);
    if (source.kind === 'table') {
      const table = copy.tables[source.name];
      if (!table) throw new DrInvalidTransition(`target ${target.name} no longer declares table ${source.name}`);
      await deps.tables.createTable(table, { keySchema: source.keySchema, attributeDefinitions: source.attributeDefinitions });
      const writes = new Bounded(WRITES_AT_ONCE);
      try {
        for (const part of parts) {
          const body = await deps.vault.openRead(part.key);
          if (!body) throw new ArtifactRejected(`part ${part.key} disappeared from the vault`, { details: { check: 'part-missing', part: part.key } });
          let batch: DynamoItem[] = [];
          for await (const line of readPartLines(part, body, partCompression(manifest, part))) {
            batch.push(parseTableRecord(line));
            if (batch.length === BATCH) {
              const items = batch;
              await writes.add(() => deps.tables.putItems(table, items));
              written += batch.length;
              batch = [];
            }
          }
          if (batch.length > 0) {
            const items = batch;
            await writes.add(() => deps.tables.putItems(table, items));
          }
          written += batch.length;
        }
        await writes.drain();
      } finally {
        await writes.settle();
      }
    } else {
      const place = copy.prefixes.find((p) => p.bucket === source.bucket && p.prefix === source.prefix);
      if (!place) throw new DrInvalidTransition(`target ${target.name} no longer declares s3://${source.bucket}/${source.prefix}`);
      const writes = new Bounded(WRITES_AT_ONCE);
      // Chunk records (large objects) stream into one upload each, in order, across part boundaries.
      const chunked = new ChunkAssembler((record, body) =>
        deps.objects.writeStream(place.bucket, place.physicalPrefix + record.key, {
          body,
          size: record.size ?? 0,
          contentType: record.contentType,
          metadata: record.metadata,
        }),
      );
      try {
        for (const part of parts) {
          const body = await deps.vault.openRead(part.key);
          if (!body) throw new ArtifactRejected(`part ${part.key} disappeared from the vault`, { details: { check: 'part-missing', part: part.key } });
          for await (const line of readPartLines(part, body, partCompression(manifest, part))) {
            const object = parseObjectRecord(line);
            if (object.offset !== undefined) await chunked.add(object);
            else await writes.add(() => deps.objects.write(place.bucket, place.physicalPrefix + object.key, object));
            written += 1;
          }
        }
        chunked.finish();
        await writes.drain();
      } finally {
        await writes.settle();
        await chunked.settle();
      }
    }
  }
  await stepSucceeded(deps, jobId, 'Apply', `${written} record(s) written into copy ${copy.copyId}`, {}, { copyId: copy.copyId, records: written });
  return { copyId: copy.copyId };
}

/** VALIDATING: smoke tests of the new copy against the manifest (counts, content hashes, sample reads). */
export async function validateRestore(deps: DrDeps, jobId: string): Promise<{ passed: number }> {
  const job = await loadJob(deps, jobId);
  const copy = job.copy!;
  const { manifest } = await stagedManifest(deps, job);
  await stepStarted(deps, jobId, 'Validate', DrJobState.VALIDATING, `smoke tests on copy ${copy.copyId}`);
  const results: SmokeTestResult[] = [];
  for (const source of manifest.sources) {
    const digest = new ContentDigest();
    const samples: (string | null)[] = [];
    if (source.kind === 'table') {
      const table = copy.tables[source.name]!;
      for await (const item of deps.tables.scan(table)) digest.add(tableRecordLine(item));
      for (const sample of source.samples) {
        const item = await deps.tables.getItem(table, itemFromJson(sample.key as Record<string, unknown>));
        samples.push(item ? sha256(tableRecordLine(item)) : null);
      }
    } else {
      const place = copy.prefixes.find((p) => p.bucket === source.bucket && p.prefix === source.prefix)!;
      // The same records as the snapshot wrote: whole objects, or chunk records past `objectChunkBytes`.
      const chunkBytes = source.objectChunkBytes ?? Number.POSITIVE_INFINITY;
      // A chunk and its line are only hashed, then dropped: both reuse one buffer each, as in the snapshot.
      let scratch: Buffer | undefined;
      let line = Buffer.alloc(0);
      const lineOf = (bytes: number) => {
        if (line.length < bytes) line = Buffer.allocUnsafe(bytes);
        return line.subarray(0, bytes);
      };
      for await (const listed of deps.objects.list(place.bucket, place.physicalPrefix)) {
        const open = await deps.objects.open(place.bucket, listed.key);
        if (!open) continue;
        const record = { key: listed.key.slice(place.physicalPrefix.length), contentType: open.contentType, metadata: open.metadata };
        if (open.size <= chunkBytes) {
          digest.add(objectRecordBytes({ ...record, body: await readAll(open.body) }, lineOf));
          continue;
        }
        let offset = 0;
        scratch ??= Buffer.allocUnsafe(chunkBytes);
        for await (const body of fixedChunks(open.body, chunkBytes, scratch)) {
          digest.add(objectRecordBytes({ ...record, body, offset, size: open.size }, lineOf));
          offset += body.length;
        }
      }
      for (const sample of source.samples) {
        samples.push(await sampleObjectSha(deps, place, sample.key, chunkBytes));
      }
    }
    results.push(...evaluateSmokeTests(source, { records: digest.count, contentDigest: digest.hex, samples }));
  }
  const target = findTarget(deps.targets, job.target);
  for (const check of target.checks) {
    if (check.kind === 'item') {
      const table = copy.tables[check.table];
      const item = table ? await deps.tables.getItem(table, keyFromPlain(check.key)) : undefined;
      results.push(evaluateCheck(check, item ? itemToPlain(item) : undefined));
    } else {
      const place = copy.prefixes
        .filter((p) => p.bucket === check.bucket && check.key.startsWith(p.prefix))
        .sort((a, b) => b.prefix.length - a.prefix.length)[0];
      const object = place ? await deps.objects.read(place.bucket, place.physicalPrefix + check.key.slice(place.prefix.length)) : undefined;
      results.push(evaluateCheck(check, object?.body.toString('utf8')));
    }
  }
  const failed = failedTests(results);
  await deps.repo.updateJob(jobId, () => ({ job: { smokeTests: results }, events: [] }));
  if (failed.length > 0) {
    throw new SmokeTestFailed(`${failed.length} smoke test(s) failed: ${failed.map((f) => `${f.source} ${f.name}`).join(', ')}`, { details: { failed } });
  }
  await stepSucceeded(deps, jobId, 'Validate', `${results.length} smoke test(s) passed`, {}, { passed: results.length });
  return { passed: results.length };
}

const sha256 = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex');

/** The SHA-256 of a sampled record read back from the copy: a whole object, or one chunk (`{key, offset}`) by a ranged read. */
async function sampleObjectSha(
  deps: DrDeps,
  place: { bucket: string; physicalPrefix: string },
  sampleKey: unknown,
  chunkBytes: number,
): Promise<string | null> {
  if (sampleKey !== null && typeof sampleKey === 'object') {
    const { key, offset } = sampleKey as { key: string; offset: number };
    const open = await deps.objects.open(place.bucket, place.physicalPrefix + key, { start: offset, end: offset + chunkBytes - 1 });
    if (!open) return null;
    return sha256(objectRecordBytes({ key, contentType: open.contentType, metadata: open.metadata, body: await readAll(open.body), offset, size: open.size }));
  }
  const object = await deps.objects.read(place.bucket, place.physicalPrefix + String(sampleKey));
  return object ? sha256(objectRecordBytes({ ...object, key: String(sampleKey) })) : null;
}

/** Flip the traffic pointer to the new copy, atomically (conditioned on the pointer's version). */
export async function flipPointer(deps: DrDeps, jobId: string): Promise<{ version: number }> {
  const job = await loadJob(deps, jobId);
  const target = findTarget(deps.targets, job.target);
  const copy = job.copy!;
  await deps.repo.updateJob(jobId, (current) => ({
    job: {
      state: DrJobState.FLIPPING,
      steps: current.steps.map((s) =>
        s.name === 'AwaitApproval' && s.state === 'PENDING'
          ? { ...s, state: 'SUCCEEDED', detail: 'no approval required (placeholder until the approvals issue)' }
          : s,
      ),
    },
    events: [{ type: 'ApprovalNotRequired', message: 'no approval rule applies to this restore (placeholder gate)' }],
  }));
  await stepStarted(deps, jobId, 'FlipPointer', undefined, `pointing ${target.name} at copy ${copy.copyId}`);
  const pointer = await deps.repo.getPointer(target.name);
  if (pointer?.live.copyId === copy.copyId) {
    await stepSucceeded(deps, jobId, 'FlipPointer', `${target.name} already points at copy ${copy.copyId}`);
    return { version: pointer.version };
  }
  const next = flipTo(target, pointer, copy, { jobId, principal: job.requestedBy, at: deps.clock() });
  await deps.repo.putPointer(next, pointer?.version ?? 0);
  await stepSucceeded(
    deps,
    jobId,
    'FlipPointer',
    `${target.name} now reads copy ${copy.copyId} (pointer version ${next.version}); copy ${next.previous?.copyId} kept for rollback`,
    {},
    { version: next.version, live: copy.copyId, previous: next.previous?.copyId },
  );
  return { version: next.version };
}

/** A restore test's evidence: the smoke test results, signed with the manifest key, stored next to the manifest. */
export async function recordEvidence(deps: DrDeps, jobId: string): Promise<{ location: string }> {
  const job = await loadJob(deps, jobId);
  await stepStarted(deps, jobId, 'RecordEvidence', undefined, 'signing the restore test evidence');
  const evidence = {
    format: 'maestro-dr-restore-test/1',
    jobId,
    target: job.target,
    snapshotId: job.snapshotId,
    manifestSha256: (job.report as { manifestSha256: string }).manifestSha256,
    copyId: job.copy?.copyId,
    smokeTests: job.smokeTests ?? [],
    passed: (job.smokeTests ?? []).every((t) => t.passed),
    testedAt: deps.clock().toISOString(),
  };
  const digest = createHash('sha256').update(canonicalJson(evidence)).digest();
  const { signature, keyId } = await deps.signer.sign(digest);
  const key = evidenceKey(job.target, job.snapshotId!, jobId);
  const body = { evidence, sha256: digest.toString('hex'), signature: { algorithm: 'ECDSA_SHA_256', keyId, value: signature.toString('base64') } };
  await deps.vault.putSmall(key, Buffer.from(`${JSON.stringify(body, null, 2)}\n`), 'application/json');
  const location = `s3://${deps.vault.bucket}/${key}`;
  await stepSucceeded(deps, jobId, 'RecordEvidence', `evidence signed and stored at ${location}`, { result: { evidence: location } });
  return { location };
}

/** Deletes the job's new copy (failed restore, finished test), never anything the pointer uses. */
export async function discardCopy(deps: DrDeps, jobId: string): Promise<{ discarded: boolean }> {
  const job = await loadJob(deps, jobId);
  const target = findTarget(deps.targets, job.target);
  const copy: DataCopy | undefined = job.copy;
  const hasStep = job.steps.some((s) => s.name === 'DiscardCopy');
  if (hasStep) await stepStarted(deps, jobId, 'DiscardCopy', undefined, copy ? `deleting copy ${copy.copyId}` : 'no copy to delete');
  let discarded = false;
  if (copy) {
    const pointer = await deps.repo.getPointer(target.name);
    const keep = [liveCopy(target, pointer), ...(pointer?.previous ? [pointer.previous] : [])];
    if (keep.some((k) => sharesResources(copy, k))) throw new DrInvalidTransition(`copy ${copy.copyId} is in use by the pointer; not deleting it`);
    for (const table of Object.values(copy.tables)) await deps.tables.deleteTable(table);
    for (const p of copy.prefixes) await deps.objects.deletePrefix(p.bucket, p.physicalPrefix);
    discarded = true;
  }
  const message = copy ? `copy ${copy.copyId} deleted; the live copy was not touched` : 'nothing was written';
  if (hasStep) await stepSucceeded(deps, jobId, 'DiscardCopy', message);
  else await deps.repo.updateJob(jobId, () => ({ job: {}, events: [{ type: 'CopyDiscarded', message }] }));
  return { discarded };
}

/** `POST /dr/restore/{jobId}/rollback`: flip the pointer back to the copy that was live before this restore. */
export async function rollBackRestore(deps: DrDeps, jobId: string, principal: string): Promise<DrJob> {
  const job = await loadJob(deps, jobId);
  if (job.kind !== DrJobKind.restore || job.dryRun || job.mode === RestoreMode.test) {
    throw new DrInvalidTransition(`job ${jobId} is not a restore that flips the pointer`, { field: 'jobId' });
  }
  if (job.state !== DrJobState.COMPLETE || !job.copy)
    throw new DrInvalidTransition(`restore ${jobId} is ${job.state}; only a COMPLETE restore can be rolled back`, { field: 'jobId' });
  const target = findTarget(deps.targets, job.target);
  const pointer = await deps.repo.getPointer(target.name);
  if (!pointer || pointer.live.copyId !== job.copy.copyId || !pointer.previous) {
    throw new DrInvalidTransition(`${target.name} no longer points at this restore's copy ${job.copy.copyId}`, { field: 'jobId' });
  }
  const now = deps.clock();
  await deps.repo.putPointer(
    {
      target: target.name,
      live: pointer.previous,
      previous: pointer.live,
      version: pointer.version + 1,
      flippedAt: now.toISOString(),
      flippedBy: principal,
      jobId,
    },
    pointer.version,
  );
  return deps.repo.updateJob(jobId, () => ({
    job: { state: DrJobState.ROLLED_BACK },
    events: [
      { type: 'RestoreRolledBack', message: `${principal} flipped ${target.name} back to copy ${pointer.previous!.copyId}; copy ${job.copy!.copyId} is kept` },
    ],
  }));
}
