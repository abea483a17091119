// CreateAlias, GetAlias, UpdateAlias, ListAliases and DeleteAlias. Every change
// gives the alias a new RevisionId; an update carrying an older one is refused
// with PreconditionFailedException, so two deployers cannot both move it.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { paginate } from '../emulator-support/offset-pagination.ts';
import { parseInput } from '../emulator-support/request-validation.ts';
import { lambdaError, staleRevision } from './lambda-errors.ts';
import type { FunctionAlias, FunctionDocument } from './function-document.ts';
import { ALIAS_NAME_PATTERN, functionArn, parseFunctionReference } from './function-names.ts';
import { aliasView, findAlias, functionNotFound, requireAlias, requireFunction } from './function-views.ts';
import { checkAliasTarget, functionVersionMember, routingConfigMember } from './routing-config.ts';
import { maxItems } from './version-operations.ts';
import type { LambdaContext, LambdaOperation, RestRequest } from './lambda-context.ts';
import type { RestRoutes } from './rest-routes.ts';

const aliasNameMember = z.string().regex(ALIAS_NAME_PATTERN, 'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)');

const createAliasRequest = z.object({
  Name: aliasNameMember,
  FunctionVersion: functionVersionMember,
  Description: z.string().max(256).optional(),
  RoutingConfig: routingConfigMember,
});

const updateAliasRequest = z.object({
  FunctionVersion: functionVersionMember.optional(),
  Description: z.string().max(256).optional(),
  RoutingConfig: routingConfigMember,
  RevisionId: z.string().optional(),
});

function functionName(context: LambdaContext, request: RestRequest): string {
  const reference = parseFunctionReference(context.scope, request.params.get('FunctionName')!);
  if (reference.qualifier !== undefined) {
    throw lambdaError('InvalidParameterValueException', 'An alias is managed on the unqualified function: remove the qualifier from FunctionName.');
  }
  return reference.name;
}

function aliasName(request: RestRequest): string {
  return parseInput(z.object({ Name: aliasNameMember }), { Name: request.params.get('Name') }).Name;
}

function withAlias(document: FunctionDocument, alias: FunctionAlias): FunctionDocument {
  const aliases = [...document.aliases.filter((candidate) => candidate.name !== alias.name), alias];
  return { ...document, aliases: aliases.sort((a, b) => (a.name < b.name ? -1 : 1)) };
}

const createAlias: LambdaOperation = async (context, request) => {
  const name = functionName(context, request);
  const input = parseInput(createAliasRequest, request.body);
  const alias = await context.store.update(name, (current) => {
    if (!current) throw functionNotFound(context.scope, name);
    if (findAlias(current, input.Name)) {
      throw lambdaError('ResourceConflictException', `Alias already exists: ${functionArn(context.scope, name, input.Name)}`);
    }
    const weights = input.RoutingConfig?.AdditionalVersionWeights ?? {};
    checkAliasTarget(context.scope, current, input.FunctionVersion, weights);
    const created: FunctionAlias = {
      name: input.Name,
      functionVersion: input.FunctionVersion,
      description: input.Description ?? '',
      additionalVersionWeights: weights,
      revisionId: randomUUID(),
    };
    return { write: withAlias(current, created), result: created };
  });
  return { status: 201, body: aliasView(context.scope, name, alias) };
};

const getAlias: LambdaOperation = async (context, request) => {
  const name = functionName(context, request);
  const document = requireFunction(context, name);
  return { status: 200, body: aliasView(context.scope, name, requireAlias(context, document, aliasName(request))) };
};

const updateAlias: LambdaOperation = async (context, request) => {
  const name = functionName(context, request);
  const target = aliasName(request);
  const input = parseInput(updateAliasRequest, request.body);
  const alias = await context.store.update(name, (current) => {
    if (!current) throw functionNotFound(context.scope, name);
    const existing = requireAlias(context, current, target);
    if (input.RevisionId !== undefined && input.RevisionId !== existing.revisionId) throw staleRevision('alias');
    const updated: FunctionAlias = {
      name: existing.name,
      functionVersion: input.FunctionVersion ?? existing.functionVersion,
      description: input.Description ?? existing.description,
      // A RoutingConfig replaces the weights (an empty one clears them); none keeps them.
      additionalVersionWeights: input.RoutingConfig ? (input.RoutingConfig.AdditionalVersionWeights ?? {}) : existing.additionalVersionWeights,
      revisionId: randomUUID(),
    };
    checkAliasTarget(context.scope, current, updated.functionVersion, updated.additionalVersionWeights);
    return { write: withAlias(current, updated), result: updated };
  });
  return { status: 200, body: aliasView(context.scope, name, alias) };
};

const listAliases: LambdaOperation = async (context, request) => {
  const name = functionName(context, request);
  const document = requireFunction(context, name);
  const version = request.query.get('FunctionVersion');
  const matching = version === null ? document.aliases : document.aliases.filter((alias) => alias.functionVersion === version);
  const page = paginate(matching, maxItems(request.query.get('MaxItems')), request.query.get('Marker') ?? undefined, () =>
    lambdaError('InvalidParameterValueException', 'Invalid Marker'),
  );
  return {
    status: 200,
    body: {
      Aliases: page.items.map((alias) => aliasView(context.scope, name, alias)),
      ...(page.nextToken !== undefined ? { NextMarker: page.nextToken } : {}),
    },
  };
};

// Deleting an alias that is not there succeeds, as in Lambda.
const deleteAlias: LambdaOperation = async (context, request) => {
  const name = functionName(context, request);
  const target = aliasName(request);
  await context.store.update(name, (current) => {
    if (!current) throw functionNotFound(context.scope, name);
    if (!findAlias(current, target)) return { result: undefined };
    return { write: { ...current, aliases: current.aliases.filter((alias) => alias.name !== target) }, result: undefined };
  });
  return { status: 204 };
};

export function addAliasRoutes(routes: RestRoutes): void {
  routes
    .add('POST', '/2015-03-31/functions/{FunctionName}/aliases', 'CreateAlias', createAlias)
    .add('GET', '/2015-03-31/functions/{FunctionName}/aliases', 'ListAliases', listAliases)
    .add('GET', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'GetAlias', getAlias)
    .add('PUT', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'UpdateAlias', updateAlias)
    .add('DELETE', '/2015-03-31/functions/{FunctionName}/aliases/{Name}', 'DeleteAlias', deleteAlias);
}
