// PutParameter and DeleteParameter: every put with Overwrite adds a version;
// SSM keeps the newest 100 and refuses to drop a labelled one.

import { z } from 'zod';
import { parseInput } from '../emulator-support/request-validation.ts';
import { PARAMETER_TIERS, PARAMETER_TYPES, currentVersion, newParameterDocument } from './parameter-document.ts';
import type { ParameterDocument, ParameterVersion } from './parameter-document.ts';
import { checkParameterName } from './parameter-names.ts';
import { parameterNotFound, ssmError } from './ssm-errors.ts';
import type { SsmOperation } from './ssm-context.ts';

const MAX_VERSIONS = 100;
const MAX_VALUE_LENGTH = { Standard: 4096, Advanced: 8192 } as const;
const DEFAULT_KEY_ID = 'alias/aws/ssm';

const putParameterRequest = z.object({
  Name: z.string().min(1).max(2048),
  Value: z.string().min(1),
  Type: z.enum(PARAMETER_TYPES).optional(),
  Overwrite: z.boolean().optional(),
  Description: z.string().max(1024).optional(),
  KeyId: z.string().min(1).max(256).optional(),
  AllowedPattern: z.string().max(1024).optional(),
  Tier: z.enum(PARAMETER_TIERS).optional(),
  DataType: z.enum(['text', 'aws:ec2:image', 'aws:ssm:integration']).optional(),
  Tags: z.array(z.object({ Key: z.string(), Value: z.string() })).optional(),
  Policies: z.string().optional(),
});

const deleteParameterRequest = z.object({ Name: z.string().min(1).max(2048) });

type PutRequest = z.output<typeof putParameterRequest>;

const putParameter: SsmOperation = async (context, input) => {
  const request = parseInput(putParameterRequest, input);
  checkParameterName(request.Name);
  if (request.Tags !== undefined && request.Overwrite) {
    throw ssmError(
      'ValidationException',
      "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
    );
  }
  const version = await context.store.update(request.Name, (current) => {
    const next = nextVersion(request, current);
    if (!current) return { write: newParameterDocument(request.Name, next), result: next };
    return { write: { ...current, versions: keepNewest([...current.versions, next]) }, result: next };
  });
  return { Version: version.version, Tier: version.tier };
};

function nextVersion(request: PutRequest, current: ParameterDocument | undefined): ParameterVersion {
  if (current && !request.Overwrite) {
    throw ssmError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
  }
  const previous = current && currentVersion(current);
  const type = request.Type ?? previous?.type;
  if (!type) throw ssmError('ValidationException', 'A parameter type is required when you create a parameter.');
  if (request.KeyId !== undefined && type !== 'SecureString') {
    throw ssmError('ValidationException', 'KeyId is required for SecureString type parameter only.');
  }
  const tier = request.Tier === 'Advanced' || previous?.tier === 'Advanced' ? 'Advanced' : 'Standard';
  if (request.Value.length > MAX_VALUE_LENGTH[tier]) {
    throw ssmError('ValidationException', `${tier} tier parameters support a maximum parameter value of ${MAX_VALUE_LENGTH[tier]} characters.`);
  }
  const allowedPattern = request.AllowedPattern ?? previous?.allowedPattern;
  if (allowedPattern !== undefined && !matchesWhole(allowedPattern, request.Value)) {
    throw ssmError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${allowedPattern}`);
  }
  return {
    version: (previous?.version ?? 0) + 1,
    type,
    value: request.Value,
    ...((request.Description ?? previous?.description) !== undefined ? { description: request.Description ?? previous?.description } : {}),
    ...(type === 'SecureString' ? { keyId: request.KeyId ?? previous?.keyId ?? DEFAULT_KEY_ID } : {}),
    ...(allowedPattern !== undefined ? { allowedPattern } : {}),
    tier,
    dataType: request.DataType ?? previous?.dataType ?? 'text',
    lastModifiedDate: new Date().toISOString(),
    labels: [],
  };
}

function matchesWhole(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    throw ssmError('ValidationException', `AllowedPattern ${pattern} is not a valid regular expression`);
  }
}

function keepNewest(versions: ParameterVersion[]): ParameterVersion[] {
  if (versions.length <= MAX_VERSIONS) return versions;
  const oldest = versions[0];
  if (oldest.labels.length > 0) {
    throw ssmError(
      'ParameterMaxVersionLimitExceeded',
      `You attempted to create a new version by calling the PutParameter API with the overwrite flag. Version ${oldest.version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
    );
  }
  return versions.slice(1);
}

const deleteParameter: SsmOperation = async (context, input) => {
  const { Name } = parseInput(deleteParameterRequest, input);
  await context.store.update(Name, (current) => {
    if (!current) throw parameterNotFound(Name);
    return { remove: true, result: undefined };
  });
  return {};
};

export const PARAMETER_WRITES: ReadonlyMap<string, SsmOperation> = new Map([
  ['PutParameter', putParameter],
  ['DeleteParameter', deleteParameter],
]);
