import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
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

  /**
   * A part's upload: what is written is held (as the chunks written, never joined) up to the upload
   * part size; a part that ends within it goes up as one streamed PutObject of known length, a larger
   * one as a multipart upload (lib-storage, two parts at once). At most about 32 MiB held per upload.
   */
  openUpload(key: string) {
    // The readable side hands on the chunks as written (object mode): a byte-mode read joins whatever
    // is buffered into a new buffer, a fresh allocation per read.
    const stream = new PassThrough({ writableHighWaterMark: 1024 * 1024, readableObjectMode: true, readableHighWaterMark: 1 });
    const params = { Bucket: this.bucket, Key: key, ContentType: 'application/x-ndjson' };
    const upload = async (): Promise<{ VersionId?: string }> => {
      const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const held: Buffer[] = [];
      let heldBytes = 0;
      for (;;) {
        const next = await chunks.next();
        if (next.done) {
          return this.#s3.send(new PutObjectCommand({ ...params, Body: Readable.from(held), ContentLength: heldBytes }));
        }
        held.push(next.value);
        heldBytes += next.value.length;
        if (heldBytes > this.#partSize) break;
      }
      const rest = async function* () {
        yield* held.splice(0);
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
      };
      return new Upload({
        client: this.#s3,
        params: { ...params, Body: Readable.from(rest()) },
        queueSize: 2,
        partSize: this.#partSize,
        leavePartsOnError: false,
      }).done();
    };
    const done = upload().then(
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
