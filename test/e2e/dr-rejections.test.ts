import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, SignCommand } from '@aws-sdk/client-kms';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDrRepository } from '../../functions/adapters/DynamoDrRepository.ts';
import { canonicalManifest } from '../../functions/core/dr/manifest.ts';
import type { SignedManifest } from '../../functions/core/dr/manifest.ts';
import { resetDrDeps } from '../../functions/handlers/dr/deps.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { startTestStack } from '../support/test-stack.ts';
import { backup, drClients, readManifest, restore, seedDemo, writeVault } from '../support/dr.ts';

let stack: EmbeddedStack;
let clients: ReturnType<typeof drClients>;
let repo: DynamoDrRepository;

beforeAll(async () => {
  stack = await startTestStack('drrej');
  clients = drClients();
  repo = new DynamoDrRepository({ client: clients.docs, tableName: stack.stateTable });
  await seedDemo(stack, clients.docs, clients.s3, 20);
});
afterAll(async () => {
  await stack?.stop();
});

const keyOf = (location: string) => location.replace('s3://maestro-artifacts/', '');
const tableExists = async (table: string) =>
  new DynamoDBClient({}).send(new DescribeTableCommand({ TableName: table })).then(
    () => true,
    () => false,
  );

async function resign(signed: SignedManifest, keyId = 'alias/maestro-manifest-signing'): Promise<SignedManifest> {
  const digest = createHash('sha256').update(canonicalManifest(signed.manifest)).digest();
  const out = await clients.kms.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
  return { ...signed, sha256: digest.toString('hex'), signature: { algorithm: 'ECDSA_SHA_256', keyId: out.KeyId!, value: Buffer.from(out.Signature!).toString('base64') } };
}

/** Restores a tampered artifact: it must end REJECTED (naming the check), write nothing and leave the pointer alone. */
async function expectRejected(snapshotId: string, check: RegExp) {
  const before = await repo.getPointer('demo');
  const job = await restore(stack, { snapshotId });
  expect(job.state, JSON.stringify(job.error)).toBe('REJECTED');
  expect(job.error.name).toBe('ArtifactRejected');
  expect(job.error.message).toMatch(check);
  expect(job.verified).toBe(false);
  expect(job.copy).toBeUndefined();
  expect(job.steps.map((s: any) => `${s.name}:${s.state}`)).toEqual(['Stage:FAILED', 'Apply:SKIPPED', 'Validate:SKIPPED', 'AwaitApproval:SKIPPED', 'FlipPointer:SKIPPED']);
  expect(await repo.getPointer('demo')).toEqual(before);
  return job;
}

describe('a restore that cannot prove its artifact is REJECTED, the pointer unchanged', () => {
  it('tampered part', async () => {
    const snapshot = await backup(stack);
    const signed = await readManifest(clients.s3, snapshot.result.location);
    await writeVault(clients.s3, signed.manifest.parts[0].key, gzipSync('{"item":{"id":{"S":"evil"}}}\n'));
    await expectRejected(snapshot.id, /part .* hashes to/);
  });

  it('tampered manifest (digest no longer matches)', async () => {
    const snapshot = await backup(stack);
    const signed = await readManifest(clients.s3, snapshot.result.location);
    signed.manifest.reason = 'rewritten history';
    await writeVault(clients.s3, keyOf(snapshot.result.location), JSON.stringify(signed));
    await expectRejected(snapshot.id, /changed after signing/);
  });

  it('tampered manifest with a recomputed digest (the signature no longer verifies)', async () => {
    const snapshot = await backup(stack);
    const signed = await readManifest(clients.s3, snapshot.result.location);
    signed.manifest.reason = 'rewritten history';
    signed.sha256 = createHash('sha256').update(canonicalManifest(signed.manifest)).digest('hex');
    await writeVault(clients.s3, keyOf(snapshot.result.location), JSON.stringify(signed));
    await expectRejected(snapshot.id, /does not verify with the trusted key/);
  });

  it('signed with the wrong key', async () => {
    const snapshot = await backup(stack);
    const other = await clients.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'not the manifest key' }));
    const signed = await resign(await readManifest(clients.s3, snapshot.result.location), other.KeyMetadata!.KeyId!);
    await writeVault(clients.s3, keyOf(snapshot.result.location), JSON.stringify(signed));
    await expectRejected(snapshot.id, /does not verify with the trusted key/);
  });

  it('missing part', async () => {
    const snapshot = await backup(stack);
    const signed = await readManifest(clients.s3, snapshot.result.location);
    await clients.s3.send(new DeleteObjectCommand({ Bucket: 'maestro-artifacts', Key: signed.manifest.parts.at(-1)!.key }));
    await expectRejected(snapshot.id, /missing from the vault/);
  });

  it('unknown snapshot', async () => {
    await expectRejected('00000000-0000-0000-0000-000000000000', /not in the vault/);
  });
});
