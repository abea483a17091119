import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectHead, ObjectStore, PutObjectRequest, StoredObject } from '../core/actions/ports.ts';
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

  async head(bucket: string, key: string): Promise<ObjectHead | undefined> {
    try {
      const head = await this.#s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        etag: head.ETag ?? '',
        versionId: nullVersion(head.VersionId),
        size: head.ContentLength ?? 0,
        contentType: head.ContentType,
        metadata: head.Metadata ?? {},
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
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
      if (statusOf(error) === 412 || (error as Error).name === 'PreconditionFailed' || (request.ifMatch && isNotFound(error))) {
        throw new StalePlan(`s3://${request.bucket}/${request.key} changed since it was planned`, { cause: error });
      }
      return this.#fail(error, `writing s3://${request.bucket}/${request.key}`, request.bucket);
    }
  }

  async restoreVersion(bucket: string, key: string, versionId: string): Promise<{ versionId?: string }> {
    try {
      const copied = await this.#s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: `${bucket}/${encodeURIComponent(key)}?versionId=${encodeURIComponent(versionId)}`,
        }),
      );
      return { versionId: nullVersion(copied.VersionId) };
    } catch (error) {
      return this.#fail(error, `restoring s3://${bucket}/${key} to version ${versionId}`, bucket);
    }
  }

  async delete(bucket: string, key: string): Promise<{ versionId?: string }> {
    try {
      const deleted = await this.#s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return { versionId: nullVersion(deleted.VersionId) };
    } catch (error) {
      return this.#fail(error, `deleting s3://${bucket}/${key}`, bucket);
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

/** S3 reports "null" as the version of objects written while versioning was off. */
const nullVersion = (versionId: string | undefined) => (versionId && versionId !== 'null' ? versionId : undefined);
