import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CopyObjectRequest, HistoryEntry, ObjectCondition, ObjectHead, ObjectStore, PutObjectRequest, StoredObject } from '../core/actions/ports.ts';
import { ActionFailed, StalePlan } from '../core/errors.ts';
import { rethrowAwsError } from './aws-errors.ts';

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const isNotFound = (error: unknown) =>
  error instanceof Error && (error.name === 'NotFound' || error.name === 'NoSuchKey' || (statusOf(error) === 404 && error.name !== 'NoSuchBucket'));

/** The ObjectStore port on S3: SDK failures become domain errors here and nowhere else. */
export class S3ObjectStore implements ObjectStore {
  readonly #s3: S3Client;

  constructor(client: S3Client) {
    this.#s3 = client;
  }

  async head(bucket: string, key: string, versionId?: string): Promise<ObjectHead | undefined> {
    try {
      const head = await this.#s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      return {
        etag: head.ETag ?? '',
        versionId: nullVersion(head.VersionId),
        size: head.ContentLength ?? 0,
        contentType: head.ContentType,
        metadata: head.Metadata ?? {},
      };
    } catch (error) {
      // A version id that names a delete marker: HEAD answers 405 MethodNotAllowed; there is no object there.
      if (isNotFound(error) || (versionId !== undefined && statusOf(error) === 405)) return undefined;
      return this.#fail(error, `reading s3://${bucket}/${key}`, bucket);
    }
  }

  async get(bucket: string, key: string, versionId?: string): Promise<StoredObject | undefined> {
    try {
      const object = await this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      const body = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
      return {
        body,
        etag: object.ETag ?? '',
        versionId: nullVersion(object.VersionId),
        contentType: object.ContentType,
        metadata: object.Metadata ?? {},
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      return this.#fail(error, `reading s3://${bucket}/${key}`, bucket);
    }
  }

  async put(request: PutObjectRequest): Promise<{ etag: string; versionId?: string }> {
    try {
      const written = await this.#s3.send(
        new PutObjectCommand({
          Bucket: request.bucket,
          Key: request.key,
          Body: request.body,
          ContentType: request.contentType,
          Metadata: request.metadata,
          IfMatch: request.ifMatch,
          IfNoneMatch: request.ifNoneMatch,
        }),
      );
      return { etag: written.ETag ?? '', versionId: nullVersion(written.VersionId) };
    } catch (error) {
      if (isPreconditionFailed(error) || (request.ifMatch && isNotFound(error))) {
        throw new StalePlan(`s3://${request.bucket}/${request.key} changed since it was planned`, { cause: error });
      }
      return this.#fail(error, `writing s3://${request.bucket}/${request.key}`, request.bucket);
    }
  }

  async restoreVersion(bucket: string, key: string, versionId: string, condition: ObjectCondition = {}): Promise<{ versionId?: string }> {
    try {
      const copied = await this.#s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: copySource(bucket, key, versionId),
          IfMatch: condition.ifMatch,
          IfNoneMatch: condition.ifNoneMatch,
        }),
      );
      return { versionId: nullVersion(copied.VersionId) };
    } catch (error) {
      if (isPreconditionFailed(error) || (condition.ifMatch && isNoSuchKey(error))) {
        throw new StalePlan(`s3://${bucket}/${key} changed since it was read`, { cause: error });
      }
      return this.#fail(error, `restoring s3://${bucket}/${key} to version ${versionId}`, bucket);
    }
  }

  async delete(bucket: string, key: string, condition: Pick<ObjectCondition, 'ifMatch'> = {}): Promise<{ versionId?: string }> {
    try {
      const deleted = await this.#s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: condition.ifMatch }));
      return { versionId: nullVersion(deleted.VersionId) };
    } catch (error) {
      if (condition.ifMatch && (isPreconditionFailed(error) || isNotFound(error))) {
        throw new StalePlan(`s3://${bucket}/${key} changed since it was planned`, { cause: error });
      }
      return this.#fail(error, `deleting s3://${bucket}/${key}`, bucket);
    }
  }

  async copy(request: CopyObjectRequest): Promise<{ etag: string; versionId?: string }> {
    const { source } = request;
    const from = `s3://${source.bucket}/${source.key}${source.versionId ? `?versionId=${source.versionId}` : ''}`;
    try {
      const copied = await this.#s3.send(
        new CopyObjectCommand({
          Bucket: request.bucket,
          Key: request.key,
          CopySource: copySource(source.bucket, source.key, source.versionId),
          CopySourceIfMatch: source.ifMatch,
          IfMatch: request.ifMatch,
          IfNoneMatch: request.ifNoneMatch,
          ...(request.replace ? { MetadataDirective: 'REPLACE' as const, ContentType: request.replace.contentType, Metadata: request.replace.metadata } : {}),
        }),
      );
      return { etag: copied.CopyObjectResult?.ETag ?? '', versionId: nullVersion(copied.VersionId) };
    } catch (error) {
      // A failed condition (either side), the source gone, or the destination gone under If-Match: what the plan read no longer holds.
      if (isPreconditionFailed(error) || isNoSuchKey(error) || sdkName(error) === 'NoSuchVersion') {
        throw new StalePlan(`copying ${from} to s3://${request.bucket}/${request.key}: changed since it was planned`, { cause: error });
      }
      // Copying from a delete marker by version id is refused by S3 as a bad request.
      if (sdkName(error) === 'InvalidRequest' || sdkName(error) === 'InvalidArgument') {
        throw new ActionFailed(`copying ${from}: ${(error as Error).message}`, { field: 'source', cause: error });
      }
      return this.#fail(error, `copying ${from} to s3://${request.bucket}/${request.key}`, request.bucket);
    }
  }

  async history(bucket: string, key: string, limit: 1 | 2): Promise<HistoryEntry[]> {
    try {
      // The listing holds the key's entries first (every other key under this prefix sorts after it),
      // newest first; the SDK splits versions from delete markers, so IsLatest puts the newest back on top.
      const listed = await this.#s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, MaxKeys: limit }));
      const entries = [
        ...(listed.Versions ?? []).map((entry) => ({ ...entry, deleteMarker: false })),
        ...(listed.DeleteMarkers ?? []).map((entry) => ({ ...entry, deleteMarker: true })),
      ]
        .filter((entry) => entry.Key === key)
        .sort((a, b) => Number(b.IsLatest === true) - Number(a.IsLatest === true));
      return entries.map((entry) => ({ versionId: entry.VersionId ?? 'null', deleteMarker: entry.deleteMarker }));
    } catch (error) {
      return this.#fail(error, `listing the versions of s3://${bucket}/${key}`, bucket);
    }
  }

  #fail(error: unknown, doing: string, bucket: string): never {
    if (error instanceof Error && error.name === 'NoSuchBucket') {
      throw new ActionFailed(`${doing}: bucket ${bucket} does not exist`, { field: 'bucket', cause: error });
    }
    if (error instanceof Error && (error.name === 'AccessDenied' || statusOf(error) === 403)) {
      throw new ActionFailed(`${doing}: access denied`, { cause: error });
    }
    return rethrowAwsError(error, doing);
  }
}

const sdkName = (error: unknown) => (error instanceof Error ? error.name : undefined);
const isPreconditionFailed = (error: unknown) => statusOf(error) === 412 || sdkName(error) === 'PreconditionFailed';
const isNoSuchKey = (error: unknown) => sdkName(error) === 'NoSuchKey' || (statusOf(error) === 404 && sdkName(error) !== 'NoSuchBucket');

/** `x-amz-copy-source`: bucket/key, the key URL-encoded, and the version when one is pinned. */
const copySource = (bucket: string, key: string, versionId?: string) =>
  `${bucket}/${encodeURIComponent(key)}${versionId ? `?versionId=${encodeURIComponent(versionId)}` : ''}`;

/** S3 reports "null" as the version of objects written while versioning was off. */
const nullVersion = (versionId: string | undefined) => (versionId && versionId !== 'null' ? versionId : undefined);
