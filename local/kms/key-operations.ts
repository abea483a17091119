// Key and alias management: CreateKey, DescribeKey, ListKeys, CreateAlias, ListAliases.

import { z } from 'zod';
import { KmsError, validationError } from './kms-errors.ts';
import { ALL_KMS_KEY_SPECS, ALL_KMS_KEY_USAGES, KEY_SPEC_PROFILES, SUPPORTED_KEY_SPECS, isSupportedKeySpec } from './key-specs.ts';
import { aliasArn, aliasNameProblem, keyArn, parseKeyIdentifier } from './kms-arns.ts';
import { resolveKey } from './kms-context.ts';
import type { KmsContext, OperationHandler } from './kms-context.ts';
import type { LocalKmsKey } from './key-store.ts';
import { keyIdMember, parseRequest } from './request-parsing.ts';
import { paginate } from './pagination.ts';

const limitMember = z.number().int().min(1).max(1000).optional();
const markerMember = z.string().min(1).max(1024).optional();

const createKeyRequest = z.object({
  Description: z.string().max(8192).optional(),
  KeyUsage: z.enum(ALL_KMS_KEY_USAGES).optional(),
  KeySpec: z.enum(ALL_KMS_KEY_SPECS).optional(),
  CustomerMasterKeySpec: z.enum(ALL_KMS_KEY_SPECS).optional(),
  Origin: z.string().optional(),
  MultiRegion: z.boolean().optional(),
});

const describeKeyRequest = z.object({ KeyId: keyIdMember });
const listKeysRequest = z.object({ Limit: limitMember, Marker: markerMember });
const createAliasRequest = z.object({ AliasName: z.string().min(1), TargetKeyId: keyIdMember });
const listAliasesRequest = z.object({ KeyId: keyIdMember.optional(), Limit: limitMember, Marker: markerMember });

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

export function keyMetadata(context: KmsContext, key: LocalKmsKey): object {
  const profile = KEY_SPEC_PROFILES[key.keySpec];
  return {
    AWSAccountId: context.scope.accountId,
    KeyId: key.keyId,
    Arn: keyArn(context.scope, key.keyId),
    CreationDate: epochSeconds(key.createdAt),
    Enabled: true,
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: 'Enabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    ...(profile.signingAlgorithms ? { SigningAlgorithms: profile.signingAlgorithms } : {}),
    ...(profile.macAlgorithms ? { MacAlgorithms: profile.macAlgorithms } : {}),
    MultiRegion: false,
  };
}

const createKey: OperationHandler = async (context, input) => {
  const request = parseRequest(createKeyRequest, input);
  if (request.KeySpec && request.CustomerMasterKeySpec && request.KeySpec !== request.CustomerMasterKeySpec) {
    throw validationError('KeySpec and CustomerMasterKeySpec must not differ');
  }
  const keySpec = request.KeySpec ?? request.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
  if (!isSupportedKeySpec(keySpec)) {
    throw new KmsError(
      'UnsupportedOperationException',
      `KeySpec ${keySpec} is not supported by the local KMS emulator; use one of ${SUPPORTED_KEY_SPECS.join(', ')}`,
    );
  }
  // KMS defaults KeyUsage to ENCRYPT_DECRYPT, which no supported spec allows: callers must name it, as on AWS.
  const keyUsage = request.KeyUsage ?? 'ENCRYPT_DECRYPT';
  if (keyUsage !== KEY_SPEC_PROFILES[keySpec].keyUsage) {
    throw validationError(`KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
  }
  if (request.Origin !== undefined && request.Origin !== 'AWS_KMS') {
    throw new KmsError('UnsupportedOperationException', `Origin ${request.Origin} is not supported by the local KMS emulator`);
  }
  if (request.MultiRegion) {
    throw new KmsError('UnsupportedOperationException', 'Multi-Region keys are not supported by the local KMS emulator');
  }
  const key = await context.store.createKey({ keySpec, description: request.Description ?? '' });
  return { KeyMetadata: keyMetadata(context, key) };
};

const describeKey: OperationHandler = async (context, input) => {
  const request = parseRequest(describeKeyRequest, input);
  return { KeyMetadata: keyMetadata(context, resolveKey(context, request.KeyId)) };
};

const listKeys: OperationHandler = async (context, input) => {
  const request = parseRequest(listKeysRequest, input);
  const page = paginate(context.store.listKeys(), request.Limit, request.Marker);
  return {
    Keys: page.items.map((key) => ({ KeyId: key.keyId, KeyArn: keyArn(context.scope, key.keyId) })),
    Truncated: page.truncated,
    ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}),
  };
};

const createAlias: OperationHandler = async (context, input) => {
  const request = parseRequest(createAliasRequest, input);
  const problem = aliasNameProblem(request.AliasName);
  if (problem) throw new KmsError('InvalidAliasNameException', problem);
  // As on AWS, an alias points at a key, never at another alias.
  if (parseKeyIdentifier(context.scope, request.TargetKeyId)?.kind === 'alias') {
    throw validationError('TargetKeyId must be a key ID or key ARN, not an alias');
  }
  const key = resolveKey(context, request.TargetKeyId);
  const alias = await context.store.createAlias(request.AliasName, key.keyId);
  if (!alias) {
    throw new KmsError('AlreadyExistsException', `An alias with the name ${aliasArn(context.scope, request.AliasName)} already exists`);
  }
  return {};
};

const listAliases: OperationHandler = async (context, input) => {
  const request = parseRequest(listAliasesRequest, input);
  const targetKeyId = request.KeyId === undefined ? undefined : resolveKey(context, request.KeyId).keyId;
  const aliases = context.store.listAliases().filter((alias) => targetKeyId === undefined || alias.targetKeyId === targetKeyId);
  const page = paginate(aliases, request.Limit, request.Marker);
  return {
    Aliases: page.items.map((alias) => ({
      AliasName: alias.aliasName,
      AliasArn: aliasArn(context.scope, alias.aliasName),
      TargetKeyId: alias.targetKeyId,
      CreationDate: epochSeconds(alias.createdAt),
      LastUpdatedDate: epochSeconds(alias.updatedAt),
    })),
    Truncated: page.truncated,
    ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}),
  };
};

export const KEY_OPERATIONS = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  ListKeys: listKeys,
  CreateAlias: createAlias,
  ListAliases: listAliases,
} as const satisfies Record<string, OperationHandler>;
