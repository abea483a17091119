// How Lambda answers about a function: FunctionConfiguration and
// AliasConfiguration as the API returns them, and the lookups every
// operation shares (a function, one of its versions, one of its aliases).

import { lambdaError } from './lambda-errors.ts';
import type { FunctionAlias, FunctionConfiguration, FunctionDocument } from './function-document.ts';
import { functionArn } from './function-names.ts';
import type { LambdaScope } from './function-names.ts';
import type { LambdaContext } from './lambda-context.ts';

export const LATEST = '$LATEST';

export function requireFunction(context: LambdaContext, name: string, qualifier?: string): FunctionDocument {
  const document = context.store.get(name);
  if (!document) throw functionNotFound(context.scope, name, qualifier);
  return document;
}

export function functionNotFound(scope: LambdaScope, name: string, qualifier?: string): Error {
  return lambdaError('ResourceNotFoundException', `Function not found: ${functionArn(scope, name, qualifier)}`);
}

/** The configuration a version number or $LATEST names, or undefined. */
export function findVersion(document: FunctionDocument, version: string): (FunctionConfiguration & { version: string }) | undefined {
  if (version === LATEST) return { ...document.latest, version: LATEST };
  return document.versions.find((candidate) => candidate.version === version);
}

export function findAlias(document: FunctionDocument, aliasName: string): FunctionAlias | undefined {
  return document.aliases.find((alias) => alias.name === aliasName);
}

export function requireAlias(context: LambdaContext, document: FunctionDocument, aliasName: string): FunctionAlias {
  const alias = findAlias(document, aliasName);
  if (!alias) throw lambdaError('ResourceNotFoundException', `Alias not found: ${functionArn(context.scope, document.name, aliasName)}`);
  return alias;
}

/** $LATEST, a version number or an alias name → that configuration (an alias answers with its primary version). */
export function resolveQualifier(context: LambdaContext, document: FunctionDocument, qualifier: string): FunctionConfiguration & { version: string } {
  const byVersion = /^\d+$/.test(qualifier) || qualifier === LATEST ? findVersion(document, qualifier) : undefined;
  const alias = byVersion ? undefined : findAlias(document, qualifier);
  const found = byVersion ?? (alias && findVersion(document, alias.functionVersion));
  if (!found) throw lambdaError('ResourceNotFoundException', `Function not found: ${functionArn(context.scope, document.name, qualifier)}`);
  return found;
}

export function configurationView(scope: LambdaScope, name: string, configuration: FunctionConfiguration, version: string, arnQualifier?: string): object {
  const qualifier = arnQualifier ?? (version === LATEST ? undefined : version);
  return {
    FunctionName: name,
    FunctionArn: functionArn(scope, name, qualifier),
    ...(configuration.runtime !== undefined ? { Runtime: configuration.runtime } : {}),
    Role: configuration.role,
    ...(configuration.handler !== undefined ? { Handler: configuration.handler } : {}),
    CodeSize: configuration.codeSize,
    Description: configuration.description,
    Timeout: configuration.timeout,
    MemorySize: configuration.memorySize,
    // Lambda writes LastModified as 2026-12-01T20:54:58.123+0000.
    LastModified: configuration.lastModified.replace(/Z$/, '+0000'),
    CodeSha256: configuration.codeSha256,
    Version: version,
    ...(configuration.environment !== undefined ? { Environment: { Variables: configuration.environment } } : {}),
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: configuration.revisionId,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: configuration.packageType,
    Architectures: configuration.architectures,
    EphemeralStorage: { Size: 512 },
  };
}

export function aliasView(scope: LambdaScope, functionName: string, alias: FunctionAlias): object {
  return {
    AliasArn: functionArn(scope, functionName, alias.name),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    ...(Object.keys(alias.additionalVersionWeights).length > 0 ? { RoutingConfig: { AdditionalVersionWeights: alias.additionalVersionWeights } } : {}),
    RevisionId: alias.revisionId,
  };
}
