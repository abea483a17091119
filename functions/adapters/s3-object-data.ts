import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { ListedObject, ObjectData, OpenedObject } from '../core/dr/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';

/** S3 prefixes for DR: list, read one object at a time, write, delete a restored copy. */
export class S3ObjectData implements ObjectData {
  readonly #s3: S3Client;

  constructor(options: { client: S3Client }) {
    this.#s3 = options.client;
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ListedObject> {
    for await (const page of paginateListObjectsV2({ client: this.#s3 }, { Bucket: bucket, Prefix: prefix || undefined })) {
      for (const object of page.Contents ?? []) yield { key: object.Key!, size: object.Size ?? 0 };
    }
  }

  async read(bucket: string, key: string) {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = Buffer.from(await out.Body!.transformToByteArray());
      return { body, contentType: out.ContentType, metadata: out.Metadata ?? {} };
    } catch (error) {
      if (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound')) return undefined;
      return rethrowAwsError(error, `reading s3://${bucket}/${key}`);
    }
  }

  async open(bucket: string, key: string, range?: { start: number; end: number }): Promise<OpenedObject | undefined> {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      // A ranged answer names the whole size after the slash: `bytes 0-99/1234`.
      const total = out.ContentRange ? Number(out.ContentRange.split('/')[1]) : (out.ContentLength ?? 0);
      return { body: out.Body as Readable, size: total, contentType: out.ContentType, metadata: out.Metadata ?? {} };
    } catch (error) {
      if (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound')) return undefined;
      return rethrowAwsError(error, `reading s3://${bucket}/${key}`);
    }
  }

  async writeStream(
    bucket: string,
    key: string,
    object: { body: Readable; size: number; contentType?: string; metadata: Record<string, string> },
  ): Promise<void> {
    // One PutObject up to 8 MiB, else 8 MiB parts, four at once: at most 32 MiB buffered.
    const upload = new Upload({
      client: this.#s3,
      params: { Bucket: bucket, Key: key, Body: object.body, ContentType: object.contentType, Metadata: object.metadata },
      queueSize: 4,
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    await upload.done().catch((e) => rethrowAwsError(e, `writing s3://${bucket}/${key}`));
  }

  async write(bucket: string, key: string, object: { body: Buffer; contentType?: string; metadata: Record<string, string> }): Promise<void> {
    await this.#s3
      .send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: object.body, ContentType: object.contentType, Metadata: object.metadata }))
      .catch((e) => rethrowAwsError(e, `writing s3://${bucket}/${key}`));
  }

  async deletePrefix(bucket: string, prefix: string): Promise<void> {
    if (!prefix) throw new Error('refusing to delete a whole bucket');
    let keys: string[] = [];
    const flush = async () => {
      if (keys.length === 0) return;
      await this.#s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
      keys = [];
    };
    for await (const object of this.list(bucket, prefix)) {
      keys.push(object.key);
      if (keys.length === 1000) await flush();
    }
    await flush();
  }
}
