// What every operation needs: the key store, the account/region it lives in,
// and the rule for turning any key identifier into a key.

import { KmsError } from './kms-errors.ts';
import { aliasArn, keyArn, parseKeyIdentifier } from './kms-arns.ts';
import type { KmsScope } from './kms-arns.ts';
import type { KeyStore, LocalKmsKey } from './key-store.ts';

export interface KmsContext {
  store: KeyStore;
  scope: KmsScope;
}

export type OperationHandler = (context: KmsContext, input: unknown) => Promise<object>;

/** Key id, key ARN, alias name or alias ARN → key, or NotFoundException. */
export function resolveKey(context: KmsContext, identifier: string): LocalKmsKey {
  const parsed = parseKeyIdentifier(context.scope, identifier);
  if (!parsed) throw new KmsError('NotFoundException', `Invalid keyId '${identifier}'`);
  if (parsed.kind === 'alias') {
    const alias = context.store.getAlias(parsed.aliasName);
    const key = alias && context.store.getKey(alias.targetKeyId);
    if (!key) throw new KmsError('NotFoundException', `Alias ${aliasArn(context.scope, parsed.aliasName)} is not found.`);
    return key;
  }
  const key = context.store.getKey(parsed.keyId);
  if (!key) throw new KmsError('NotFoundException', `Key '${keyArn(context.scope, parsed.keyId)}' does not exist`);
  return key;
}
