// How keys and aliases are named: bare key id, key ARN, alias name, alias ARN.

export interface KmsScope {
  region: string;
  accountId: string;
}

export type KeyIdentifier = { kind: 'key'; keyId: string } | { kind: 'alias'; aliasName: string };

const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALIAS_NAME_PATTERN = /^alias\/[a-zA-Z0-9/_-]+$/;
const MAX_ALIAS_NAME_LENGTH = 256;
// KMS keeps alias/aws/* for AWS managed keys.
const RESERVED_ALIAS_PREFIX = 'alias/aws/';

export function keyArn(scope: KmsScope, keyId: string): string {
  return `arn:aws:kms:${scope.region}:${scope.accountId}:key/${keyId}`;
}

export function aliasArn(scope: KmsScope, aliasName: string): string {
  return `arn:aws:kms:${scope.region}:${scope.accountId}:${aliasName}`;
}

export function isKeyId(value: string): boolean {
  return KEY_ID_PATTERN.test(value);
}

/** Reason the alias name is not acceptable for CreateAlias, or undefined when it is. */
export function aliasNameProblem(aliasName: string): string | undefined {
  if (aliasName.length > MAX_ALIAS_NAME_LENGTH) return `Alias name must be at most ${MAX_ALIAS_NAME_LENGTH} characters`;
  if (!ALIAS_NAME_PATTERN.test(aliasName)) return 'Alias name must start with alias/ followed by letters, digits, /, _ or -';
  if (aliasName.startsWith(RESERVED_ALIAS_PREFIX)) return `Alias names beginning with ${RESERVED_ALIAS_PREFIX} are reserved`;
  return undefined;
}

/** Parses any accepted spelling; undefined when it names nothing in this account and region. */
export function parseKeyIdentifier(scope: KmsScope, identifier: string): KeyIdentifier | undefined {
  if (identifier.startsWith('alias/')) return { kind: 'alias', aliasName: identifier };
  if (isKeyId(identifier)) return { kind: 'key', keyId: identifier };
  const arnPrefix = `arn:aws:kms:${scope.region}:${scope.accountId}:`;
  if (!identifier.startsWith(arnPrefix)) return undefined;
  const resource = identifier.slice(arnPrefix.length);
  if (resource.startsWith('alias/')) return { kind: 'alias', aliasName: resource };
  if (resource.startsWith('key/') && isKeyId(resource.slice('key/'.length))) {
    return { kind: 'key', keyId: resource.slice('key/'.length) };
  }
  return undefined;
}
