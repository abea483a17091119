// PublishVersion and ListVersionsByFunction. A version is an immutable
// snapshot of $LATEST; publishing an unchanged $LATEST returns the newest
// version instead of adding one, as Lambda does.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { paginate } from '../emulator-support/offset-pagination.ts';
import { parseInput } from '../emulator-support/request-validation.ts';
import { lambdaError, staleRevision } from './lambda-errors.ts';
import { publishableState } from './function-document.ts';
import type { FunctionDocument, PublishedVersion } from './function-document.ts';
import { parseFunctionReference } from './function-names.ts';
import { LATEST, configurationView, functionNotFound, requireFunction } from './function-views.ts';
import type { LambdaOperation } from './lambda-context.ts';
import type { RestRoutes } from './rest-routes.ts';

const DEFAULT_MAX_ITEMS = 50;

const publishVersionRequest = z.object({
  CodeSha256: z.string().optional(),
  Description: z.string().max(256).optional(),
  RevisionId: z.string().optional(),
});

/** Adds a version of $LATEST, or returns the newest one when nothing changed since. */
export function publishNewVersion(document: FunctionDocument, description: string): { document: FunctionDocument; version: PublishedVersion } {
  const newest = document.versions.at(-1);
  if (newest && publishableState(newest) === publishableState(document.latest)) return { document, version: newest };
  const number = document.lastVersionNumber + 1;
  const version: PublishedVersion = {
    ...document.latest,
    description: description || document.latest.description,
    version: String(number),
    revisionId: randomUUID(),
  };
  return {
    document: {
      ...document,
      // Publishing is a change to the function, so $LATEST gets a new revision too.
      latest: { ...document.latest, revisionId: randomUUID() },
      versions: [...document.versions, version],
      lastVersionNumber: number,
    },
    version,
  };
}

const publishVersion: LambdaOperation = async (context, request) => {
  const reference = parseFunctionReference(context.scope, request.params.get('FunctionName')!);
  const input = parseInput(publishVersionRequest, request.body);
  const published = await context.store.update(reference.name, (current) => {
    if (!current) throw functionNotFound(context.scope, reference.name);
    const document = current;
    if (input.RevisionId !== undefined && input.RevisionId !== document.latest.revisionId) throw staleRevision('function');
    if (input.CodeSha256 !== undefined && input.CodeSha256 !== document.latest.codeSha256) {
      throw lambdaError(
        'InvalidParameterValueException',
        `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${document.latest.codeSha256}). Please try publishing again with the CodeSHA256 in $LATEST.`,
      );
    }
    const result = publishNewVersion(document, input.Description ?? '');
    return result.document === document ? { result } : { write: result.document, result };
  });
  return { status: 201, body: configurationView(context.scope, reference.name, published.version, published.version.version) };
};

const listVersionsByFunction: LambdaOperation = async (context, request) => {
  const reference = parseFunctionReference(context.scope, request.params.get('FunctionName')!);
  const document = requireFunction(context, reference.name);
  const all = [{ ...document.latest, version: LATEST }, ...document.versions];
  const page = paginate(all, maxItems(request.query.get('MaxItems')), request.query.get('Marker') ?? undefined, () =>
    lambdaError('InvalidParameterValueException', 'Invalid Marker'),
  );
  return {
    status: 200,
    body: {
      Versions: page.items.map((version) => configurationView(context.scope, document.name, version, version.version)),
      ...(page.nextToken !== undefined ? { NextMarker: page.nextToken } : {}),
    },
  };
};

export function maxItems(text: string | null): number {
  if (text === null) return DEFAULT_MAX_ITEMS;
  const value = Number(text);
  if (!/^\d{1,5}$/.test(text) || value < 1 || value > 10000) {
    throw lambdaError(
      'ValidationException',
      `1 validation error detected: Value '${text}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000`,
    );
  }
  return value;
}

export function addVersionRoutes(routes: RestRoutes): void {
  routes
    .add('POST', '/2015-03-31/functions/{FunctionName}/versions', 'PublishVersion', publishVersion)
    .add('GET', '/2015-03-31/functions/{FunctionName}/versions', 'ListVersionsByFunction', listVersionsByFunction);
}
