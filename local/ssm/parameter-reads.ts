// GetParameter (with "name:version" and "name:label" selectors) and
// GetParameterHistory (oldest first, paged by NextToken).

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { paginate } from '../emulator-support/offset-pagination.ts';
import { parseInput } from '../emulator-support/request-validation.ts';
import { currentVersion } from './parameter-document.ts';
import type { ParameterDocument, ParameterVersion } from './parameter-document.ts';
import { parameterArn, parseNameWithSelector } from './parameter-names.ts';
import type { ParameterSelector } from './parameter-names.ts';
import { parameterNotFound, ssmError } from './ssm-errors.ts';
import { lastModifiedUser } from './ssm-context.ts';
import type { SsmContext, SsmOperation } from './ssm-context.ts';

const MAX_HISTORY_RESULTS = 50;

const getParameterRequest = z.object({ Name: z.string().min(1).max(2048), WithDecryption: z.boolean().optional() });
const getParameterHistoryRequest = z.object({
  Name: z.string().min(1).max(2048),
  WithDecryption: z.boolean().optional(),
  MaxResults: z.number().int().min(1).max(MAX_HISTORY_RESULTS).optional(),
  NextToken: z.string().min(1).optional(),
});

const getParameter: SsmOperation = async (context, input) => {
  const request = parseInput(getParameterRequest, input);
  const { name, selector, selectorText } = parseNameWithSelector(request.Name);
  const document = context.store.get(name);
  if (!document) throw parameterNotFound(request.Name);
  const version = select(document, selector);
  return {
    Parameter: {
      Name: document.name,
      Type: version.type,
      Value: shownValue(document.name, version, request.WithDecryption === true),
      Version: version.version,
      ...(selectorText !== undefined ? { Selector: `:${selectorText}` } : {}),
      LastModifiedDate: new Date(version.lastModifiedDate),
      ARN: parameterArn(context.scope, document.name),
      DataType: version.dataType,
    },
  };
};

function select(document: ParameterDocument, selector: ParameterSelector): ParameterVersion {
  if (selector.kind === 'latest') return currentVersion(document);
  const found =
    selector.kind === 'version'
      ? document.versions.find((candidate) => candidate.version === selector.version)
      : document.versions.find((candidate) => candidate.labels.includes(selector.label));
  if (!found) {
    const what = selector.kind === 'version' ? `version ${selector.version}` : `label ${selector.label}`;
    throw ssmError('ParameterVersionNotFound', `Systems Manager could not find ${what} of ${document.name}. Verify the version and try again.`);
  }
  return found;
}

// A SecureString read without decryption shows an opaque token, never the
// plaintext (AWS shows the KMS ciphertext).
function shownValue(name: string, version: ParameterVersion, decrypt: boolean): string {
  if (version.type !== 'SecureString' || decrypt) return version.value;
  const digest = createHash('sha256').update(`${name}\0${version.version}\0${version.value}`).digest();
  // KMS ciphertexts start with these bytes, so the value reads as one (base64 "AQICAH...").
  return Buffer.concat([Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]), digest]).toString('base64');
}

const getParameterHistory: SsmOperation = async (context, input) => {
  const request = parseInput(getParameterHistoryRequest, input);
  const document = context.store.get(request.Name);
  if (!document) throw parameterNotFound(request.Name);
  const page = paginate(document.versions, request.MaxResults ?? MAX_HISTORY_RESULTS, request.NextToken, () =>
    ssmError('InvalidNextToken', 'The specified token is not valid.'),
  );
  return {
    Parameters: page.items.map((version) => historyEntry(context, document.name, version, request.WithDecryption === true)),
    ...(page.nextToken !== undefined ? { NextToken: page.nextToken } : {}),
  };
};

function historyEntry(context: SsmContext, name: string, version: ParameterVersion, decrypt: boolean): object {
  return {
    Name: name,
    Type: version.type,
    ...(version.keyId !== undefined ? { KeyId: version.keyId } : {}),
    LastModifiedDate: new Date(version.lastModifiedDate),
    LastModifiedUser: lastModifiedUser(context.scope),
    ...(version.description !== undefined ? { Description: version.description } : {}),
    Value: shownValue(name, version, decrypt),
    ...(version.allowedPattern !== undefined ? { AllowedPattern: version.allowedPattern } : {}),
    Version: version.version,
    Labels: version.labels,
    Tier: version.tier,
    Policies: [],
    DataType: version.dataType,
  };
}

export const PARAMETER_READS: ReadonlyMap<string, SsmOperation> = new Map([
  ['GetParameter', getParameter],
  ['GetParameterHistory', getParameterHistory],
]);
