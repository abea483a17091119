import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Emulator, type RunningS3Emulator } from '../../../local/s3/s3-emulator.ts';

let dataDir: string;
let emulator: RunningS3Emulator;
let s3: S3Client;

function clientFor(url: string): S3Client {
  // Default checksum settings on purpose: streaming bodies then arrive aws-chunked with a CRC32 trailer.
  return new S3Client({
    endpoint: url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

async function restart(): Promise<void> {
  s3.destroy();
  await emulator.stop();
  emulator = await startS3Emulator({ dataDir, port: 0 });
  s3 = clientFor(emulator.url);
}

async function bodyOf(output: { Body?: { transformToByteArray(): Promise<Uint8Array> } }): Promise<Buffer> {
  return Buffer.from(await output.Body!.transformToByteArray());
}

async function getText(bucket: string, key: string, versionId?: string): Promise<string> {
  const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return (await bodyOf(output)).toString('utf8');
}

/** Resolves to the SDK error the call failed with; fails the test if it succeeded. */
async function failure(call: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await call;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-s3-'));
  emulator = await startS3Emulator({ dataDir, port: 0 });
  s3 = clientFor(emulator.url);
});

afterAll(async () => {
  s3?.destroy();
  await emulator?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('buckets', () => {
  it('creates, heads, lists and deletes buckets with S3 errors for the edge cases', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bucket-life' }));
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'bucket-life' }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    expect(head.BucketRegion).toBe('us-east-1');

    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((b) => b.Name)).toContain('bucket-life');
    expect(listed.Buckets?.find((b) => b.Name === 'bucket-life')?.CreationDate).toBeInstanceOf(Date);

    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: 'bucket-life' })))).toEqual({
      name: 'BucketAlreadyOwnedByYou',
      status: 409,
    });
    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: 'No_Such' })))).toMatchObject({ name: 'InvalidBucketName' });

    await s3.send(new PutObjectCommand({ Bucket: 'bucket-life', Key: 'x', Body: 'x' }));
    expect(await failure(s3.send(new DeleteBucketCommand({ Bucket: 'bucket-life' })))).toEqual({
      name: 'BucketNotEmpty',
      status: 409,
    });
    await s3.send(new DeleteObjectCommand({ Bucket: 'bucket-life', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'bucket-life' }));

    expect(await failure(s3.send(new HeadBucketCommand({ Bucket: 'bucket-life' })))).toMatchObject({ status: 404 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'bucket-life', Key: 'x' })))).toEqual({
      name: 'NoSuchBucket',
      status: 404,
    });
  });

  it('reports versioning as unset, Enabled, then Suspended', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'versioning-state' }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioning-state' }))).Status).toBeUndefined();
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioning-state', VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioning-state' }))).Status).toBe('Enabled');
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioning-state', VersioningConfiguration: { Status: 'Suspended' } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioning-state' }))).Status).toBe('Suspended');
  });
});

describe('objects in an unversioned bucket', () => {
  const bucket = 'plain';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('stores body, content type and user metadata, and returns them on GET and HEAD', async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'docs/hello world.txt',
        Body: 'hello, world',
        ContentType: 'text/plain',
        Metadata: { owner: 'maestro', purpose: 'test' },
      }),
    );
    expect(put.ETag).toBe(`"${md5Hex('hello, world')}"`);
    expect(put.VersionId).toBeUndefined();
    expect(put.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/hello world.txt' }));
    expect((await bodyOf(got)).toString()).toBe('hello, world');
    expect(got.ContentType).toBe('text/plain');
    expect(got.ContentLength).toBe(12);
    expect(got.ETag).toBe(put.ETag);
    expect(got.Metadata).toEqual({ owner: 'maestro', purpose: 'test' });
    expect(got.LastModified).toBeInstanceOf(Date);

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/hello world.txt' }));
    expect(head.ContentLength).toBe(12);
    expect(head.ETag).toBe(put.ETag);
    expect(head.Metadata?.owner).toBe('maestro');
  });

  it('replaces the single "null" version on overwrite and removes it on delete', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'overwrite', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'overwrite', Body: 'two' }));
    expect(await getText(bucket, 'overwrite')).toBe('two');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'overwrite' }));
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([['null', true]]);

    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'overwrite' }));
    expect(deleted.DeleteMarker).toBeUndefined();
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'overwrite' })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
  });

  it('serves byte ranges and honours read conditions', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'digits', Body: '0123456789' }));
    const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digits', Range: 'bytes=2-5' }));
    expect((await bodyOf(part)).toString()).toBe('2345');
    expect(part.ContentRange).toBe('bytes 2-5/10');
    const tail = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digits', Range: 'bytes=-3' }));
    expect((await bodyOf(tail)).toString()).toBe('789');
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digits', Range: 'bytes=50-60' })))).toEqual({
      name: 'InvalidRange',
      status: 416,
    });

    expect(await getText(bucket, 'digits')).toBe('0123456789');
    const matched = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digits', IfMatch: put.ETag }));
    expect((await bodyOf(matched)).toString()).toBe('0123456789');
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digits', IfMatch: '"0000"' })))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'digits', IfNoneMatch: put.ETag })))).toMatchObject({
      status: 304,
    });
  });

  it('refuses conditional writes whose condition does not hold', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'second', IfNoneMatch: '*' })))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'third', IfMatch: '"bad"' })))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(await getText(bucket, 'once')).toBe('first');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'fourth', IfMatch: first.ETag }));
    expect(await getText(bucket, 'once')).toBe('fourth');
  });

  it('rejects a body whose Content-MD5 does not match', async () => {
    const wrongMd5 = createHash('md5').update('something else').digest('base64');
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'digest', Body: 'payload', ContentMD5: wrongMd5 })))).toEqual({
      name: 'BadDigest',
      status: 400,
    });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'digest' })))).toMatchObject({ status: 404 });
  });

  it('stores a streaming (aws-chunked) body byte-exact and serves it with a verifiable CRC32', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const chunks = [payload.subarray(0, 1000), payload.subarray(1000, 2_000_000), payload.subarray(2_000_000)];
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed.bin', Body: Readable.from(chunks), ContentLength: payload.length }));
    expect(put.ETag).toBe(`"${md5Hex(payload)}"`);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed.bin', ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
    const body = await bodyOf(got);
    expect(body.length).toBe(payload.length);
    expect(body.equals(payload)).toBe(true);
  });

  it('lists with prefix, delimiter, paging and start-after', async () => {
    const keys = ['list/a.txt', 'list/b/1.txt', 'list/b/2.txt', 'list/c.txt', 'list/d/1.txt', 'list/e.txt'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));

    const flat = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }));
    expect(flat.Contents?.map((c) => c.Key)).toEqual(keys);
    expect(flat.KeyCount).toBe(6);
    expect(flat.Contents?.[0].Size).toBe('list/a.txt'.length);
    expect(flat.Contents?.[0].ETag).toBe(`"${md5Hex('list/a.txt')}"`);

    const grouped = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', Delimiter: '/' }));
    expect(grouped.Contents?.map((c) => c.Key)).toEqual(['list/a.txt', 'list/c.txt', 'list/e.txt']);
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['list/b/', 'list/d/']);

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
      pages.push([...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!)].sort());
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(pages).toEqual([['list/a.txt', 'list/b/'], ['list/c.txt', 'list/d/'], ['list/e.txt']]);

    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', StartAfter: 'list/c.txt' }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(['list/d/1.txt', 'list/e.txt']);
  });

  it('keeps listing in UTF-8 key order while keys come and go between listings, and after a restart', async () => {
    // The index is sorted once and then kept in order key by key: every step is checked against a fresh sort.
    const byUtf8 = (keys: string[]) => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const listed = async () => (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'order/' }))).Contents?.map((c) => c.Key) ?? [];
    // U+FF5E and U+1F600 are where UTF-16 order and UTF-8 order disagree.
    const steps: [string, 'put' | 'delete'][] = [
      ['order/m', 'put'],
      ['order/\u{1F600}', 'put'],
      ['order/a', 'put'],
      ['order/\uFF5E', 'put'],
      ['order/m', 'put'], // an overwrite: no new key
      ['order/z', 'put'],
      ['order/a', 'delete'],
      ['order/b', 'put'],
      ['order/absent', 'delete'], // no such key: nothing changes
      ['order/\u{1F600}', 'delete'],
    ];
    const expected = new Set<string>();
    expect(await listed()).toEqual([]);
    for (const [key, operation] of steps) {
      if (operation === 'put') {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
        expected.add(key);
      } else {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        expected.delete(key);
      }
      expect(await listed(), `after ${operation} ${key}`).toEqual(byUtf8([...expected]));
    }
    expect(await listed()).toEqual(['order/b', 'order/m', 'order/z', 'order/\uFF5E']);
    await restart();
    expect(await listed()).toEqual(['order/b', 'order/m', 'order/z', 'order/\uFF5E']);
  });
});

describe('objects in a versioned bucket', () => {
  const bucket = 'versioned';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  it('keeps every version, readable by id, with IsLatest on the newest', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'version one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'version two' }));
    expect(v1.VersionId).toBeTruthy();
    expect(v2.VersionId).toBeTruthy();
    expect(v2.VersionId).not.toBe(v1.VersionId);

    expect(await getText(bucket, 'doc')).toBe('version two');
    expect(await getText(bucket, 'doc', v1.VersionId)).toBe('version one');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: v1.VersionId }));
    expect(head.VersionId).toBe(v1.VersionId);
    expect(head.ContentLength).toBe('version one'.length);

    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'doc' }));
    expect(listed.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size])).toEqual([
      [v2.VersionId, true, 11],
      [v1.VersionId, false, 11],
    ]);
    expect(listed.Versions?.[1].ETag).toBe(`"${md5Hex('version one')}"`);

    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: 'A'.repeat(32) })))).toEqual({
      name: 'NoSuchVersion',
      status: 404,
    });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: 'not-ours' })))).toEqual({
      name: 'InvalidArgument',
      status: 400,
    });
  });

  it('hides a deleted key behind a delete marker, and removing the marker restores it', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'marked', Body: 'still here' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'marked' }));
    expect(deleted.DeleteMarker).toBe(true);
    expect(deleted.VersionId).toBeTruthy();

    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'marked' })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
    const raw = await fetch(`${emulator.url}/${bucket}/marked`);
    expect(raw.status).toBe(404);
    expect(raw.headers.get('x-amz-delete-marker')).toBe('true');
    expect(raw.headers.get('x-amz-version-id')).toBe(deleted.VersionId);
    expect(await raw.text()).toContain('<Code>NoSuchKey</Code>');

    expect(await getText(bucket, 'marked', put.VersionId)).toBe('still here');
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'marked', VersionId: deleted.VersionId })))).toMatchObject({ status: 405 });

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'marked' }));
    expect(listed.Contents ?? []).toEqual([]);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'marked' }));
    expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[deleted.VersionId, true]]);
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([[put.VersionId, false]]);

    const undeleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'marked', VersionId: deleted.VersionId }));
    expect(undeleted.DeleteMarker).toBe(true);
    expect(undeleted.VersionId).toBe(deleted.VersionId);
    expect(await getText(bucket, 'marked')).toBe('still here');
  });

  it('permanently deletes a version by id, making the previous one current', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rollback', Body: 'good' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rollback', Body: 'bad' }));
    const removed = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'rollback', VersionId: v2.VersionId }));
    expect(removed.VersionId).toBe(v2.VersionId);
    expect(removed.DeleteMarker).toBeUndefined();
    expect(await getText(bucket, 'rollback')).toBe('good');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'rollback' }));
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([[v1.VersionId, true]]);
  });

  it('copies an old version back as the new latest version', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'config.json', Body: '{"v":1}', ContentType: 'application/json' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'config.json', Body: '{"v":2}' }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'config.json', CopySource: `${bucket}/config.json?versionId=${v1.VersionId}` }));
    expect(copied.CopySourceVersionId).toBe(v1.VersionId);
    expect(copied.VersionId).toBeTruthy();
    expect(copied.VersionId).not.toBe(v1.VersionId);
    expect(copied.CopyObjectResult?.ETag).toBe(v1.ETag);

    const latest = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'config.json' }));
    expect((await bodyOf(latest)).toString()).toBe('{"v":1}');
    expect(latest.VersionId).toBe(copied.VersionId);
    expect(latest.ContentType).toBe('application/json');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'config.json' }));
    expect(versions.Versions).toHaveLength(3);

    // A key with characters that need URL-encoding in x-amz-copy-source.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copies/ä b+c.json', CopySource: encodeURI(`${bucket}/config.json`) }));
    expect(await getText(bucket, 'copies/ä b+c.json')).toBe('{"v":1}');
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/missing-source` })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
  });

  it('deletes many objects at once, creating markers or removing versions', async () => {
    const a = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'multi/a', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'multi/b', Body: 'b' }));
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [{ Key: 'multi/a', VersionId: a.VersionId }, { Key: 'multi/b' }, { Key: 'multi/bad', VersionId: '???' }] },
      }),
    );
    const byKey = new Map(result.Deleted?.map((d) => [d.Key, d]));
    expect(byKey.get('multi/a')).toMatchObject({ VersionId: a.VersionId });
    expect(byKey.get('multi/a')?.DeleteMarker).toBeUndefined();
    expect(byKey.get('multi/b')).toMatchObject({ DeleteMarker: true });
    expect(byKey.get('multi/b')?.DeleteMarkerVersionId).toBeTruthy();
    expect(result.Errors?.map((e) => [e.Key, e.Code])).toEqual([['multi/bad', 'InvalidArgument']]);

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'multi/' }));
    expect(versions.Versions?.map((v) => v.Key)).toEqual(['multi/b']);
    expect(versions.DeleteMarkers?.map((m) => m.Key)).toEqual(['multi/b']);
  });

  it('writes and deletes the "null" version while versioning is suspended, keeping older versions', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'suspended' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Enabled' } }));
    const kept = await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'versioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'null 1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'null 2' }));
    expect(await getText('suspended', 'k', 'null')).toBe('null 2');

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'suspended' }));
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      ['null', true],
      [kept.VersionId, false],
    ]);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'suspended', Key: 'k' }));
    expect([marker.DeleteMarker, marker.VersionId]).toEqual([true, 'null']);
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: 'suspended' }));
    expect(after.Versions?.map((v) => v.VersionId)).toEqual([kept.VersionId]);
    expect(after.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([['null', true]]);
  });

  it('pages through ListObjectVersions with key and version-id markers', async () => {
    const ids: string[] = [];
    for (const body of ['1', '2', '3']) ids.unshift((await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'paged/k', Body: body }))).VersionId!);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'paged/l', Body: 'l' }));

    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'paged/', MaxKeys: 2, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
      );
      pages++;
      seen.push(...(page.Versions ?? []).map((v) => `${v.Key}@${v.VersionId}`));
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    expect(pages).toBe(2);
    expect(seen.slice(0, 3)).toEqual(ids.map((id) => `paged/k@${id}`));
    expect(seen).toHaveLength(4);
    expect(seen[3]).toMatch(/^paged\/l@/);
  });
});

describe('conditional copies and deletes', () => {
  const bucket = 'conditional';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });
  const versionsOf = async (key: string) => {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    return (listed.Versions?.length ?? 0) + (listed.DeleteMarkers?.length ?? 0);
  };

  it('copies onto a destination only while If-Match / If-None-Match: * hold, and a pinned source version with its ETag', async () => {
    const source = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'two' }));
    const copySource = `${bucket}/src?versionId=${source.VersionId}`;

    const created = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: copySource, IfNoneMatch: '*' }));
    expect(await getText(bucket, 'dst')).toBe('one');
    expect(created.CopySourceVersionId).toBe(source.VersionId);
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: copySource, IfNoneMatch: '*' })))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: copySource, IfMatch: '"0123"' })))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'absent', CopySource: copySource, IfMatch: source.ETag })))).toMatchObject({
      status: 404,
    });
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src`, CopySourceIfMatch: source.ETag })))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(await versionsOf('dst')).toBe(1);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src`, IfMatch: created.CopyObjectResult!.ETag }));
    expect(await getText(bucket, 'dst')).toBe('two');

    // If-None-Match: * holds over a delete marker: nothing is current.
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'dst' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: copySource, IfNoneMatch: '*' }));
    expect(await getText(bucket, 'dst')).toBe('one');
  });

  it('deletes only while If-Match holds (404 with no current object), and removes a delete marker by its version id', async () => {
    const written = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del', Body: 'x' }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del', IfMatch: '"0123"' })))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(await versionsOf('del')).toBe(1);
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del', IfMatch: written.ETag }));
    expect(deleted.DeleteMarker).toBe(true);
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del', IfMatch: '*' })))).toMatchObject({ status: 404 });
    expect(await versionsOf('del')).toBe(2);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del', VersionId: deleted.VersionId }));
    expect(await getText(bucket, 'del')).toBe('x');
    expect(await versionsOf('del')).toBe(1);
  });
});

describe('multipart upload', () => {
  const bucket = 'multipart';
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  it('assembles a 5 MiB part and a small part into a byte-exact object with an S3-style ETag', async () => {
    const part1 = randomBytes(5 * 1024 * 1024);
    const part2 = randomBytes(1234);
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big.bin', ContentType: 'application/x-test' }));
    const uploadId = created.UploadId!;
    const up1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big.bin', UploadId: uploadId, PartNumber: 1, Body: part1 }));
    const up2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big.bin', UploadId: uploadId, PartNumber: 2, Body: part2 }));
    expect(up1.ETag).toBe(`"${md5Hex(part1)}"`);

    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'big.bin', UploadId: uploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, part1.length, up1.ETag],
      [2, part2.length, up2.ETag],
    ]);

    expect(
      await failure(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: 'big.bin',
            UploadId: uploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: up1.ETag },
                { PartNumber: 2, ETag: '"0123"' },
              ],
            },
          }),
        ),
      ),
    ).toEqual({ name: 'InvalidPart', status: 400 });

    const completed = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'big.bin',
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: up1.ETag },
            { PartNumber: 2, ETag: up2.ETag },
          ],
        },
      }),
    );
    const expectedEtag = createHash('md5')
      .update(Buffer.concat([Buffer.from(md5Hex(part1), 'hex'), Buffer.from(md5Hex(part2), 'hex')]))
      .digest('hex');
    expect(completed.ETag).toBe(`"${expectedEtag}-2"`);
    expect(completed.VersionId).toBeTruthy();

    const secondPart = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', PartNumber: 2 }));
    expect(secondPart.PartsCount).toBe(2);
    expect((await bodyOf(secondPart)).equals(part2)).toBe(true);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    expect(got.ContentType).toBe('application/x-test');
    expect(got.ETag).toBe(completed.ETag);
    expect((await bodyOf(got)).equals(Buffer.concat([part1, part2]))).toBe(true);

    expect(await failure(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'big.bin', UploadId: uploadId })))).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    });
  });

  it('refuses a small non-final part and forgets an aborted upload', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'small' }));
    const a = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'small', UploadId, PartNumber: 1, Body: 'tiny' }));
    const b = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'small', UploadId, PartNumber: 2, Body: 'tail' }));
    expect(
      await failure(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: 'small',
            UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: a.ETag },
                { PartNumber: 2, ETag: b.ETag },
              ],
            },
          }),
        ),
      ),
    ).toEqual({ name: 'EntityTooSmall', status: 400 });

    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'small', UploadId }));
    expect(await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'small', UploadId, PartNumber: 3, Body: 'late' })))).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'small' })))).toMatchObject({ status: 404 });
  });
});

describe('robustness', () => {
  it('answers an unsupported operation with a 501 NotImplemented naming it, and keeps serving', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'robust' }));
    await s3.send(new PutObjectCommand({ Bucket: 'robust', Key: 'k', Body: 'v' }));
    expect(await failure(s3.send(new GetObjectTaggingCommand({ Bucket: 'robust', Key: 'k' })))).toEqual({
      name: 'NotImplemented',
      status: 501,
    });
    const raw = await fetch(`${emulator.url}/robust/k?tagging`);
    expect(raw.status).toBe(501);
    expect(await raw.text()).toMatch(/<Code>NotImplemented<\/Code><Message>GetObjectTagging is not implemented/);
    expect(await getText('robust', 'k')).toBe('v');
  });

  it('answers malformed requests with 400 S3 errors', async () => {
    const badXml = await fetch(`${emulator.url}/robust?versioning`, { method: 'PUT', body: '<VersioningConfiguration><Status>' });
    expect(badXml.status).toBe(400);
    expect(await badXml.text()).toContain('<Code>MalformedXML</Code>');

    const badUri = await fetch(`${emulator.url}/robust/%E0%A4%A`);
    expect(badUri.status).toBe(400);
    expect(await badUri.text()).toContain('<Code>InvalidURI</Code>');

    const badFraming = await fetch(`${emulator.url}/robust/chunked`, {
      method: 'PUT',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' },
      body: 'zz\r\nnot hex\r\n',
    });
    expect(badFraming.status).toBe(400);
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: 'robust', Key: 'chunked' })))).toMatchObject({ status: 404 });

    const wrongTrailer = await fetch(`${emulator.url}/robust/trailer`, {
      method: 'PUT',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-decoded-content-length': '5' },
      body: '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n',
    });
    expect(wrongTrailer.status).toBe(400);
    expect(await wrongTrailer.text()).toContain('<Code>BadDigest</Code>');

    expect(await getText('robust', 'k')).toBe('v');
  });
});

describe('durability', () => {
  it('serves buckets, versions, versioning state and pending uploads after a restart', async () => {
    const bucket = 'durable';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'state', Body: 'old', Metadata: { kept: 'yes' } }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'state', Body: 'new' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'pending' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'pending', UploadId, PartNumber: 1, Body: 'part one' }));

    await restart();

    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toContain(bucket);
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
    expect(await getText(bucket, 'state')).toBe('new');
    const old = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'state', VersionId: v1.VersionId }));
    expect((await bodyOf(old)).toString()).toBe('old');
    expect(old.Metadata).toEqual({ kept: 'yes' });
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(versions.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([
      ['state', v2.VersionId, true],
      ['state', v1.VersionId, false],
    ]);
    expect(versions.DeleteMarkers?.map((m) => m.VersionId)).toEqual([marker.VersionId]);
    // Objects written by earlier tests survive too.
    expect(await getText('plain', 'docs/hello world.txt')).toBe('hello, world');

    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'pending', UploadId }));
    expect(parts.Parts?.map((p) => p.ETag)).toEqual([part.ETag]);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'pending',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(await getText(bucket, 'pending')).toBe('part one');

    // Every upload above finished cleanly, so no temp file is left behind.
    expect(fs.readdirSync(path.join(dataDir, 'tmp'))).toEqual([]);
  });
});
