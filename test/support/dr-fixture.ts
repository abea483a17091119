import { createHash } from 'node:crypto';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SignCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, expect } from 'vitest';
import { DynamoDrRepository } from '../../functions/adapters/dynamo-dr-repository.ts';
import { canonicalManifest } from '../../functions/core/dr/manifest.ts';
import type { SignedManifest } from '../../functions/core/dr/manifest.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { startTestStack } from './test-stack.ts';
import { drClients, restore, seedDemo } from './dr.ts';

export let stack: EmbeddedStack;
export let clients: ReturnType<typeof drClients>;
export let repo: DynamoDrRepository;

/** One embedded stack per DR test file, seeded with demo data; the DR test files share it. */
export function useDrStack(label: string): void {
  beforeAll(async () => {
    stack = await startTestStack(label);
    clients = drClients();
    repo = new DynamoDrRepository({ client: clients.docs, tableName: stack.stateTable });
    await seedDemo(stack, clients.docs, clients.s3, 20);
  });
  afterAll(async () => {
    await stack?.stop();
  });
}

export const keyOf = (location: string) => location.replace('s3://maestro-artifacts/', '');
export const tableExists = async (table: string) =>
  new DynamoDBClient({}).send(new DescribeTableCommand({ TableName: table })).then(
    () => true,
    () => false,
  );

export async function resign(signed: SignedManifest, keyId = 'alias/maestro-manifest-signing'): Promise<SignedManifest> {
  const digest = createHash('sha256').update(canonicalManifest(signed.manifest)).digest();
  const out = await clients.kms.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
  return {
    ...signed,
    sha256: digest.toString('hex'),
    signature: { algorithm: 'ECDSA_SHA_256', keyId: out.KeyId!, value: Buffer.from(out.Signature!).toString('base64') },
  };
}

/** Restores a tampered artifact: it must end REJECTED (naming the check), write nothing and leave the pointer alone. */
export async function expectRejected(snapshotId: string, check: RegExp) {
  const before = await repo.getPointer('demo');
  const job = await restore(stack, { snapshotId });
  expect(job.state, JSON.stringify(job.error)).toBe('REJECTED');
  expect(job.error.name).toBe('ArtifactRejected');
  expect(job.error.message).toMatch(check);
  expect(job.verified).toBe(false);
  expect(job.copy).toBeUndefined();
  expect(job.steps.map((s: any) => `${s.name}:${s.state}`)).toEqual([
    'Stage:FAILED',
    'Apply:SKIPPED',
    'Validate:SKIPPED',
    'AwaitApproval:SKIPPED',
    'FlipPointer:SKIPPED',
  ]);
  expect(await repo.getPointer('demo')).toEqual(before);
  return job;
}
