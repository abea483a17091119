import { createHash, createPublicKey, verify } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { canonicalManifest } from '../../functions/core/dr/manifest.ts';
import type { SignedManifest } from '../../functions/core/dr/manifest.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api } from './test-stack.ts';

export const ARTIFACT_BUCKET = 'maestro-artifacts';
const FINISHED = new Set(['COMPLETE', 'REJECTED', 'FAILED', 'ROLLED_BACK']);

export function drClients() {
  return {
    s3: new S3Client({ forcePathStyle: true }),
    kms: new KMSClient({}),
    docs: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  };
}

/** Polls GET /dr/status/{id} until the job has finished. */
export async function waitForDrJob(stack: Pick<EmbeddedStack, 'endpoints'>, id: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await api(stack, 'GET', `/dr/status/${id}`, { token: 'dev-approver' });
    expect(status, JSON.stringify(body)).toBe(200);
    if (FINISHED.has(body.state)) return body;
    if (Date.now() > deadline) throw new Error(`DR job ${id} still ${body.state} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function backup(stack: Pick<EmbeddedStack, 'endpoints'>, target = 'demo') {
  const response = await api(stack, 'POST', '/dr/backup', { body: { target, reason: 'test backup' } });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return waitForDrJob(stack, response.body.snapshotId);
}

export async function restore(stack: Pick<EmbeddedStack, 'endpoints'>, body: Record<string, unknown>) {
  const response = await api(stack, 'POST', '/dr/restore', { body: { target: 'demo', reason: 'test restore', ...body } });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return waitForDrJob(stack, response.body.jobId);
}

export async function seedDemo(stack: EmbeddedStack, docs: DynamoDBDocumentClient, s3: S3Client, count: number, tag = 'v1') {
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) => ({
      PutRequest: { Item: { id: `item-${String(i + j).padStart(4, '0')}`, tag, n: i + j, bin: new Uint8Array([1, 2, i % 256]), tags: new Set(['a', 'b']) } },
    }));
    await docs.send(new BatchWriteCommand({ RequestItems: { [stack.demoTable]: batch } }));
  }
  for (let i = 0; i < 3; i += 1) {
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: `notes/${i}.txt`, Body: `note ${i} ${tag}\n`, ContentType: 'text/plain' }));
  }
}

export async function readVault(s3: S3Client, key: string, versionId?: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key, VersionId: versionId }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

export async function readManifest(s3: S3Client, location: string, versionId?: string): Promise<SignedManifest> {
  const key = location.replace(`s3://${ARTIFACT_BUCKET}/`, '');
  return JSON.parse((await readVault(s3, key, versionId)).toString('utf8')) as SignedManifest;
}

export async function writeVault(s3: S3Client, key: string, body: Buffer | string) {
  return s3.send(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key, Body: body }));
}

/** Verifies a signed manifest with the public key alone, as an auditor would (node:crypto). */
export async function verifiesWithPublicKey(kms: KMSClient, signed: SignedManifest, keyId = 'alias/maestro-manifest-signing'): Promise<boolean> {
  const out = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  const publicKey = createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
  const canonical = canonicalManifest(signed.manifest);
  expect(createHash('sha256').update(canonical).digest('hex')).toBe(signed.sha256);
  return verify('sha256', canonical, { key: publicKey, dsaEncoding: 'der' }, Buffer.from(signed.signature.value, 'base64'));
}
