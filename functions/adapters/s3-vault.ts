import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import type { Vault } from '../core/dr/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';

const isMissing = (error: unknown) => error instanceof Error && ['NoSuchKey', 'NotFound', 'NoSuchVersion'].includes(error.name);

/** The versioned artifact bucket: parts go up as streaming multipart uploads (lib-storage), manifests as single puts. */
export class S3Vault implements Vault {
  readonly bucket: string;
  readonly #s3: S3Client;
  readonly #partSize: number;

  constructor(options: { client: S3Client; bucket: string; uploadPartSize?: number }) {
    this.#s3 = options.client;
    this.bucket = options.bucket;
    this.#partSize = options.uploadPartSize ?? 16 * 1024 * 1024;
  }

  openUpload(key: string) {
    const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
    const upload = new Upload({
      client: this.#s3,
      params: { Bucket: this.bucket, Key: key, Body: stream, ContentType: 'application/x-ndjson' },
      // A part of up to 16 MiB as stored (the default 8 MiB parts, whatever their last record) is one
      // PutObject; larger ones go up as 16 MiB parts, two at once: at most 32 MiB buffered per upload.
      queueSize: 2,
      partSize: this.#partSize,
      leavePartsOnError: false,
    });
    const done = upload.done().then(
      (out) => ({ versionId: out.VersionId }),
      (error: unknown) => {
        stream.destroy();
        return rethrowAwsError(error, `uploading s3://${this.bucket}/${key}`);
      },
    );
    return { stream, done };
  }

  async putSmall(key: string, body: Buffer, contentType: string) {
    const out = await this.#s3
      .send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }))
      .catch((e) => rethrowAwsError(e, `storing s3://${this.bucket}/${key}`));
    return { versionId: out.VersionId };
  }

  async openRead(key: string, versionId?: string): Promise<Readable | undefined> {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
      return out.Body as Readable;
    } catch (error) {
      if (isMissing(error)) return undefined;
      return rethrowAwsError(error, `reading s3://${this.bucket}/${key}`);
    }
  }

  async readSmall(key: string, versionId?: string) {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
      return { body: Buffer.from(await out.Body!.transformToByteArray()), versionId: out.VersionId };
    } catch (error) {
      if (isMissing(error)) return undefined;
      return rethrowAwsError(error, `reading s3://${this.bucket}/${key}`);
    }
  }

  async findVersion(prefix: string, versionId: string): Promise<string | undefined> {
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await this.#s3
        .send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }))
        .catch((e) => rethrowAwsError(e, `listing versions under s3://${this.bucket}/${prefix}`));
      const found = page.Versions?.find((v) => v.VersionId === versionId);
      if (found) return found.Key;
      if (!page.IsTruncated) return undefined;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
  }
}
