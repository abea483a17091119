// Function identifiers as Lambda accepts them (name, name:qualifier, partial
// ARN, full ARN) and the ARNs it answers with.

import { lambdaError } from './lambda-errors.ts';

export interface LambdaScope {
  region: string;
  accountId: string;
}

export const FUNCTION_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
// An alias name is never all digits, so it cannot be mistaken for a version.
export const ALIAS_NAME_PATTERN = /^(?!\d+$)[a-zA-Z0-9_-]{1,128}$/;
const QUALIFIER_PATTERN = /^(\$LATEST|[a-zA-Z0-9_-]{1,128})$/;

export interface FunctionReference {
  name: string;
  qualifier?: string;
}

export function parseFunctionReference(scope: LambdaScope, identifier: string): FunctionReference {
  const fullArn = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(?::([^:]+))?$/.exec(identifier);
  const partialArn = /^(\d{12}):function:([^:]+)(?::([^:]+))?$/.exec(identifier);
  const plain = /^([^:]+)(?::([^:]+))?$/.exec(identifier);
  let reference: FunctionReference & { region?: string; accountId?: string };
  if (fullArn) reference = { region: fullArn[1], accountId: fullArn[2], name: fullArn[3], qualifier: fullArn[4] };
  else if (partialArn) reference = { accountId: partialArn[1], name: partialArn[2], qualifier: partialArn[3] };
  else if (plain) reference = { name: plain[1], qualifier: plain[2] };
  else throw invalidName(identifier);
  if (!FUNCTION_NAME_PATTERN.test(reference.name)) throw invalidName(identifier);
  if (reference.qualifier !== undefined && !QUALIFIER_PATTERN.test(reference.qualifier)) throw invalidName(identifier);
  if ((reference.region ?? scope.region) !== scope.region || (reference.accountId ?? scope.accountId) !== scope.accountId) {
    throw lambdaError('ResourceNotFoundException', `Function not found: ${identifier}`);
  }
  return reference.qualifier === undefined ? { name: reference.name } : { name: reference.name, qualifier: reference.qualifier };
}

function invalidName(identifier: string): Error {
  return lambdaError(
    'ValidationException',
    `1 validation error detected: Value '${identifier}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
  );
}

export function functionArn(scope: LambdaScope, name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${scope.region}:${scope.accountId}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}
