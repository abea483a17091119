import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writeJsonAtomically, randomId } from './durable-files.ts';
import { S3Errors } from './errors.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { compareUtf8, withKeyIndexed } from './key-order.ts';
import {
  currentObject,
  NULL_VERSION_ID,
  Versioning,
  type BucketInfo,
  type DeleteOutcome,
  type KeyRecord,
  type NewObject,
  type ObjectVersion,
  type PartRecord,
  type UploadRecord,
  type VersioningState,
} from './types.ts';

const MIN_PART_SIZE = 5 * 1024 * 1024;

interface BucketState {
  info: BucketInfo;
  dir: string;
  keys: Map<string, KeyRecord>;
  /** Keys in S3 (UTF-8 byte) order: sorted once, when first listed; then kept in order as keys appear and disappear. */
  sortedKeys: readonly string[] | undefined;
  uploads: Map<string, UploadRecord>;
}

/**
 * Durable bucket/object/version state. Layout under `dataDir`:
 *   buckets/<bucket>/bucket.json                 name, creation date, versioning state
 *   buckets/<bucket>/objects/<sha256(key)>.json  the key's version stack, newest first
 *   buckets/<bucket>/blobs/<blobId>              immutable object bodies
 *   buckets/<bucket>/uploads/<uploadId>/         upload.json + one file per part
 *   tmp/                                         bodies in flight; emptied on start
 * Bodies are renamed into place before the metadata naming them is written, and removed after the
 * metadata stops naming them, so a crash leaves at worst an orphan blob, which `open` sweeps away.
 */
export class ObjectStore {
  readonly dataDir: string;
  readonly tempDir: string;
  readonly #bucketsDir: string;
  readonly #buckets = new Map<string, BucketState>();
  readonly #keyLocks = new KeyedMutex();
  readonly #uploadLocks = new KeyedMutex();

  private constructor(dataDir: string) {
    this.dataDir = dataDir;
    this.tempDir = join(dataDir, 'tmp');
    this.#bucketsDir = join(dataDir, 'buckets');
  }

  static async open(dataDir: string): Promise<ObjectStore> {
    const store = new ObjectStore(dataDir);
    await rm(store.tempDir, { recursive: true, force: true });
    await mkdir(store.tempDir, { recursive: true });
    await mkdir(store.#bucketsDir, { recursive: true });
    for (const name of await readdir(store.#bucketsDir)) await store.#loadBucket(name);
    return store;
  }

  // ---------- buckets ----------

  listBuckets(): BucketInfo[] {
    return [...this.#buckets.values()].map((b) => b.info).sort((a, b) => compareUtf8(a.name, b.name));
  }

  bucket(name: string): BucketInfo {
    return this.#requireBucket(name).info;
  }

  async createBucket(name: string): Promise<void> {
    if (this.#buckets.has(name)) throw S3Errors.bucketAlreadyOwnedByYou(name);
    const dir = join(this.#bucketsDir, name);
    const info: BucketInfo = { name, creationDate: new Date().toISOString(), versioning: Versioning.unversioned };
    // Claim the name before awaiting, so a concurrent create of the same name is refused.
    this.#buckets.set(name, { info, dir, keys: new Map(), sortedKeys: [], uploads: new Map() });
    try {
      for (const sub of ['objects', 'blobs', 'uploads']) await mkdir(join(dir, sub), { recursive: true });
      // bucket.json is written last: its presence is what makes the bucket exist after a restart.
      await writeJsonAtomically(this.tempDir, join(dir, 'bucket.json'), info);
    } catch (error) {
      this.#buckets.delete(name);
      throw error;
    }
  }

  async deleteBucket(name: string): Promise<void> {
    const bucket = this.#requireBucket(name);
    if (bucket.keys.size > 0) throw S3Errors.bucketNotEmpty(name);
    this.#buckets.delete(name);
    // Renaming away first makes the removal atomic: a crash mid-delete cannot leave half a bucket.
    const trash = join(this.tempDir, `deleted-bucket-${randomId()}`);
    await rename(bucket.dir, trash);
    await rm(trash, { recursive: true, force: true });
  }

  async setVersioning(name: string, state: VersioningState): Promise<void> {
    const bucket = this.#requireBucket(name);
    const info: BucketInfo = { ...bucket.info, versioning: state };
    await writeJsonAtomically(this.tempDir, join(bucket.dir, 'bucket.json'), info);
    bucket.info = info;
  }

  // ---------- objects ----------

  newTempPath(): string {
    return join(this.tempDir, randomId());
  }

  blobPath(bucketName: string, blobId: string): string {
    return join(this.#requireBucket(bucketName).dir, 'blobs', blobId);
  }

  /** Runs `section` with the key locked: versions cannot change and blobs cannot vanish meanwhile. */
  withKey<T>(bucketName: string, key: string, section: () => Promise<T>): Promise<T> {
    return this.#keyLocks.run(`${bucketName}/${key}`, section);
  }

  keyRecord(bucketName: string, key: string): KeyRecord | undefined {
    return this.#requireBucket(bucketName).keys.get(key);
  }

  /** Every key of the bucket in S3 listing order. */
  sortedKeys(bucketName: string): { keys: readonly string[]; records: Map<string, KeyRecord> } {
    const bucket = this.#requireBucket(bucketName);
    bucket.sortedKeys ??= [...bucket.keys.keys()].sort(compareUtf8);
    return { keys: bucket.sortedKeys, records: bucket.keys };
  }

  /**
   * Makes `input.tempFile` the new latest version of `key`. `check` sees the current object (inside the
   * key lock) and may throw to refuse the write, which is how conditional writes stay race-free.
   */
  async putObject(bucketName: string, key: string, input: NewObject, check?: (current: ObjectVersion | undefined) => void): Promise<ObjectVersion> {
    return this.withKey(bucketName, key, () => this.#commitLocked(bucketName, key, input, check));
  }

  /** Hard-links (or copies) a stored body to a new temp file, for CopyObject. Call inside `withKey`. */
  async cloneBlob(bucketName: string, blobId: string): Promise<string> {
    const source = this.blobPath(bucketName, blobId);
    const target = this.newTempPath();
    try {
      // Blobs are never modified in place, so sharing the inode is safe and O(1).
      await link(source, target);
    } catch {
      await copyFile(source, target, fsConstants.COPYFILE_FICLONE);
    }
    return target;
  }

  /** Deletes a version by id, or the current object; `check` sees the current object first and may refuse (a conditional delete). */
  async deleteObject(bucketName: string, key: string, versionId?: string, check?: (current: ObjectVersion | undefined) => void): Promise<DeleteOutcome> {
    return this.withKey(bucketName, key, async () => {
      const bucket = this.#requireBucket(bucketName);
      const versions = bucket.keys.get(key)?.versions ?? [];
      check?.(currentObject(bucket.keys.get(key)));

      if (versionId !== undefined) {
        const removed = versions.find((v) => v.versionId === versionId);
        // Deleting a version that is not there succeeds, as on S3.
        if (!removed) return { versionId, deleteMarker: false };
        await this.#replaceVersions(
          bucket,
          key,
          versions.filter((v) => v !== removed),
          [removed],
        );
        return { versionId, deleteMarker: removed.isDeleteMarker };
      }

      const nullVersions = versions.filter((v) => v.versionId === NULL_VERSION_ID);
      const others = versions.filter((v) => v.versionId !== NULL_VERSION_ID);
      switch (bucket.info.versioning) {
        case Versioning.unversioned:
          await this.#replaceVersions(bucket, key, others, nullVersions);
          return { deleteMarker: false };
        case Versioning.enabled: {
          const marker = deleteMarker(randomId());
          await this.#replaceVersions(bucket, key, [marker, ...versions], []);
          return { versionId: marker.versionId, deleteMarker: true };
        }
        case Versioning.suspended: {
          const marker = deleteMarker(NULL_VERSION_ID);
          await this.#replaceVersions(bucket, key, [marker, ...others], nullVersions);
          return { versionId: NULL_VERSION_ID, deleteMarker: true };
        }
      }
    });
  }

  // ---------- multipart uploads ----------

  async createUpload(bucketName: string, key: string, headers: Record<string, string>, metadata: Record<string, string>): Promise<UploadRecord> {
    const bucket = this.#requireBucket(bucketName);
    const upload: UploadRecord = {
      uploadId: randomId(),
      key,
      initiated: new Date().toISOString(),
      headers,
      metadata,
      parts: [],
    };
    const dir = join(bucket.dir, 'uploads', upload.uploadId);
    await mkdir(dir, { recursive: true });
    await writeJsonAtomically(this.tempDir, join(dir, 'upload.json'), upload);
    bucket.uploads.set(upload.uploadId, upload);
    return upload;
  }

  upload(bucketName: string, uploadId: string, key: string): UploadRecord {
    const upload = this.#requireBucket(bucketName).uploads.get(uploadId);
    if (!upload || upload.key !== key) throw S3Errors.noSuchUpload(uploadId);
    return upload;
  }

  /** Stores a received part (from `tempFile`), replacing any earlier part with the same number. */
  async putPart(bucketName: string, uploadId: string, key: string, tempFile: string, part: PartRecord): Promise<void> {
    await this.#uploadLocks.run(uploadId, async () => {
      const bucket = this.#requireBucket(bucketName);
      const upload = this.upload(bucketName, uploadId, key);
      const dir = join(bucket.dir, 'uploads', uploadId);
      await rename(tempFile, join(dir, partFileName(part.partNumber)));
      const parts = [...upload.parts.filter((p) => p.partNumber !== part.partNumber), part].sort((a, b) => a.partNumber - b.partNumber);
      const next = { ...upload, parts };
      await writeJsonAtomically(this.tempDir, join(dir, 'upload.json'), next);
      bucket.uploads.set(uploadId, next);
    });
  }

  /**
   * Concatenates the chosen parts (validated against their ETags and S3's 5 MiB minimum) into the new
   * latest version of the key and forgets the upload. The ETag is S3's: MD5 of the part MD5s, then `-N`.
   */
  async completeUpload(
    bucketName: string,
    uploadId: string,
    key: string,
    chosen: { partNumber: number; etag: string }[],
    check: (current: ObjectVersion | undefined) => void,
  ): Promise<ObjectVersion> {
    return this.#uploadLocks.run(uploadId, async () => {
      const bucket = this.#requireBucket(bucketName);
      const upload = this.upload(bucketName, uploadId, key);
      if (chosen.length === 0) throw S3Errors.malformedXml();
      const parts = chosen.map((wanted, index) => {
        if (index > 0 && wanted.partNumber <= chosen[index - 1].partNumber) throw S3Errors.invalidPartOrder();
        const part = upload.parts.find((p) => p.partNumber === wanted.partNumber);
        if (!part || unquote(part.etag) !== unquote(wanted.etag)) throw S3Errors.invalidPart(wanted.partNumber);
        return part;
      });
      if (parts.slice(0, -1).some((p) => p.size < MIN_PART_SIZE)) throw S3Errors.entityTooSmall();

      const dir = join(bucket.dir, 'uploads', uploadId);
      const tempFile = this.newTempPath();
      const md5s = createHash('md5');
      try {
        const out = createWriteStream(tempFile, { flush: true });
        for (const part of parts) {
          md5s.update(Buffer.from(unquote(part.etag), 'hex'));
          await pipeline(createReadStream(join(dir, partFileName(part.partNumber))), out, { end: false });
        }
        out.end();
        await new Promise<void>((resolve, reject) => {
          out.once('close', resolve);
          out.once('error', reject);
        });
        const version = await this.putObject(
          bucketName,
          key,
          {
            tempFile,
            etag: `"${md5s.digest('hex')}-${parts.length}"`,
            size: parts.reduce((sum, p) => sum + p.size, 0),
            headers: upload.headers,
            metadata: upload.metadata,
            partSizes: parts.map((p) => p.size),
          },
          check,
        );
        await this.#forgetUpload(bucket, uploadId);
        return version;
      } catch (error) {
        await rm(tempFile, { force: true });
        throw error;
      }
    });
  }

  async abortUpload(bucketName: string, uploadId: string, key: string): Promise<void> {
    await this.#uploadLocks.run(uploadId, async () => {
      const bucket = this.#requireBucket(bucketName);
      this.upload(bucketName, uploadId, key);
      await this.#forgetUpload(bucket, uploadId);
    });
  }

  // ---------- internals ----------

  #requireBucket(name: string): BucketState {
    const bucket = this.#buckets.get(name);
    if (!bucket) throw S3Errors.noSuchBucket(name);
    return bucket;
  }

  async #commitLocked(bucketName: string, key: string, input: NewObject, check?: (current: ObjectVersion | undefined) => void): Promise<ObjectVersion> {
    const bucket = this.#requireBucket(bucketName);
    const versions = bucket.keys.get(key)?.versions ?? [];
    check?.(currentObject(bucket.keys.get(key)));

    const versioned = bucket.info.versioning === Versioning.enabled;
    const version: ObjectVersion = {
      versionId: versioned ? randomId() : NULL_VERSION_ID,
      isDeleteMarker: false,
      lastModified: new Date().toISOString(),
      etag: input.etag,
      size: input.size,
      blobId: randomId(),
      headers: input.headers,
      metadata: input.metadata,
      ...(input.crc32 === undefined ? {} : { crc32: input.crc32 }),
      ...(input.partSizes === undefined ? {} : { partSizes: input.partSizes }),
    };
    // Without versioning (never enabled, or suspended) the write replaces the "null" version.
    const replaced = versioned ? [] : versions.filter((v) => v.versionId === NULL_VERSION_ID);
    const kept = versioned ? versions : versions.filter((v) => v.versionId !== NULL_VERSION_ID);

    const blobFile = join(bucket.dir, 'blobs', version.blobId!);
    await rename(input.tempFile, blobFile);
    try {
      await this.#replaceVersions(bucket, key, [version, ...kept], replaced);
    } catch (error) {
      await rm(blobFile, { force: true });
      throw error;
    }
    return version;
  }

  /** Persists the key's new version stack, then publishes it in memory, then removes dropped bodies. */
  async #replaceVersions(bucket: BucketState, key: string, versions: ObjectVersion[], dropped: ObjectVersion[]): Promise<void> {
    const file = join(bucket.dir, 'objects', `${keyFileName(key)}.json`);
    const existed = bucket.keys.has(key);
    if (versions.length === 0) {
      await rm(file, { force: true });
      bucket.keys.delete(key);
    } else {
      const record: KeyRecord = { key, versions };
      await writeJsonAtomically(this.tempDir, file, record);
      bucket.keys.set(key, record);
    }
    const present = bucket.keys.has(key);
    if (existed !== present && bucket.sortedKeys) bucket.sortedKeys = withKeyIndexed(bucket.sortedKeys, key, present);
    for (const version of dropped) {
      if (version.blobId) await rm(join(bucket.dir, 'blobs', version.blobId), { force: true });
    }
  }

  async #forgetUpload(bucket: BucketState, uploadId: string): Promise<void> {
    bucket.uploads.delete(uploadId);
    await rm(join(bucket.dir, 'uploads', uploadId), { recursive: true, force: true });
  }

  async #loadBucket(name: string): Promise<void> {
    const dir = join(this.#bucketsDir, name);
    const info = await readJson<BucketInfo>(join(dir, 'bucket.json'));
    if (!info) {
      // A create that crashed before bucket.json was written never happened.
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const bucket: BucketState = { info, dir, keys: new Map(), sortedKeys: undefined, uploads: new Map() };
    for (const sub of ['objects', 'blobs', 'uploads']) await mkdir(join(dir, sub), { recursive: true });

    const liveBlobs = new Set<string>();
    for (const file of await readdir(join(dir, 'objects'))) {
      const record = await readJson<KeyRecord>(join(dir, 'objects', file));
      if (!record) continue;
      bucket.keys.set(record.key, record);
      for (const v of record.versions) if (v.blobId) liveBlobs.add(v.blobId);
    }
    for (const blob of await readdir(join(dir, 'blobs'))) {
      if (!liveBlobs.has(blob)) await rm(join(dir, 'blobs', blob), { force: true });
    }
    for (const uploadId of await readdir(join(dir, 'uploads'))) {
      const upload = await readJson<UploadRecord>(join(dir, 'uploads', uploadId, 'upload.json'));
      if (upload) bucket.uploads.set(uploadId, upload);
      else await rm(join(dir, 'uploads', uploadId), { recursive: true, force: true });
    }
    this.#buckets.set(name, bucket);
  }
}

function deleteMarker(versionId: string): ObjectVersion {
  return {
    versionId,
    isDeleteMarker: true,
    lastModified: new Date().toISOString(),
    etag: '',
    size: 0,
    headers: {},
    metadata: {},
  };
}

/** Keys can be 1024 bytes with any characters; hashing gives a safe, fixed-length file name. */
function keyFileName(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function partFileName(partNumber: number): string {
  return `${partNumber}.part`;
}

export function unquote(etag: string): string {
  return etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
