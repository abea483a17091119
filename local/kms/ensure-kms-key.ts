// Idempotent start-up provisioning: make sure an alias exists and points at a
// key of the expected spec. Works through the KMS API only, so the same call
// provisions the local emulator, LocalStack or a real account.

import { AlreadyExistsException, CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, NotFoundException } from '@aws-sdk/client-kms';
import type { KMSClient, KeyMetadata } from '@aws-sdk/client-kms';
import { KEY_SPEC_PROFILES } from './key-specs.ts';
import type { SupportedKeySpec } from './key-specs.ts';

export interface KmsKeyRequirement {
  alias: string;
  keySpec: SupportedKeySpec;
  description?: string;
}

export interface EnsuredKmsKey {
  alias: string;
  keyId: string;
  keyArn: string;
  keySpec: SupportedKeySpec;
  /** True when this call created the key. */
  created: boolean;
}

/** The keys the embedded stack needs. */
export const MAESTRO_KMS_KEYS = {
  manifestSigning: { alias: 'alias/maestro-manifest-signing', keySpec: 'ECC_NIST_P256', description: 'Maestro DR manifest signing' },
  approvalLinks: { alias: 'alias/maestro-approval-links', keySpec: 'HMAC_256', description: 'Maestro approval link MACs' },
} as const satisfies Record<string, KmsKeyRequirement>;

export async function ensureKmsKey(client: KMSClient, requirement: KmsKeyRequirement): Promise<EnsuredKmsKey> {
  const existing = await describe(client, requirement.alias);
  if (existing) return checked(requirement, existing, false);

  const { KeyMetadata: created } = await client.send(
    new CreateKeyCommand({
      KeySpec: requirement.keySpec,
      KeyUsage: KEY_SPEC_PROFILES[requirement.keySpec].keyUsage,
      Description: requirement.description,
    }),
  );
  if (!created?.KeyId) throw new Error(`CreateKey for ${requirement.alias} returned no key id`);
  try {
    await client.send(new CreateAliasCommand({ AliasName: requirement.alias, TargetKeyId: created.KeyId }));
  } catch (error) {
    if (!(error instanceof AlreadyExistsException)) throw error;
    // Another starter won the race; use its key. Ours stays unused.
    const winner = await describe(client, requirement.alias);
    if (!winner) throw error;
    return checked(requirement, winner, false);
  }
  return checked(requirement, created, true);
}

async function describe(client: KMSClient, alias: string): Promise<KeyMetadata | undefined> {
  try {
    return (await client.send(new DescribeKeyCommand({ KeyId: alias }))).KeyMetadata;
  } catch (error) {
    if (error instanceof NotFoundException) return undefined;
    throw error;
  }
}

function checked(requirement: KmsKeyRequirement, metadata: KeyMetadata, created: boolean): EnsuredKmsKey {
  if (metadata.KeySpec !== requirement.keySpec || !metadata.KeyId || !metadata.Arn) {
    throw new Error(`${requirement.alias} points at a ${metadata.KeySpec ?? 'unknown'} key, expected ${requirement.keySpec}`);
  }
  return { alias: requirement.alias, keyId: metadata.KeyId, keyArn: metadata.Arn, keySpec: requirement.keySpec, created };
}
