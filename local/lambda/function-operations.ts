// CreateFunction, GetFunction, GetFunctionConfiguration and UpdateFunctionCode:
// the $LATEST configuration, whose RevisionId changes with every change.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseInput } from '../emulator-support/request-validation.ts';
import { lambdaError, staleRevision } from './lambda-errors.ts';
import { codeSourceMembers, describeCode } from './function-code.ts';
import { newFunctionDocument } from './function-document.ts';
import type { FunctionConfiguration } from './function-document.ts';
import { FUNCTION_NAME_PATTERN, parseFunctionReference } from './function-names.ts';
import { LATEST, configurationView, functionNotFound, requireFunction, resolveQualifier } from './function-views.ts';
import { publishNewVersion } from './version-operations.ts';
import type { LambdaContext, LambdaOperation } from './lambda-context.ts';
import type { RestRoutes } from './rest-routes.ts';

const ROLE_PATTERN = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-/]+$/;

const createFunctionRequest = z.object({
  FunctionName: z.string().regex(FUNCTION_NAME_PATTERN, 'Member must satisfy regular expression pattern: [a-zA-Z0-9-_]{1,64}'),
  Runtime: z.string().min(1).optional(),
  Role: z.string().regex(ROLE_PATTERN, 'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+'),
  Handler: z.string().min(1).max(128).optional(),
  Code: z.object(codeSourceMembers),
  Description: z.string().max(256).optional(),
  Timeout: z.number().int().min(1).max(900).optional(),
  MemorySize: z.number().int().min(128).max(10240).optional(),
  Publish: z.boolean().optional(),
  Environment: z.object({ Variables: z.record(z.string(), z.string()).optional() }).optional(),
  PackageType: z.enum(['Zip', 'Image']).optional(),
  Architectures: z
    .array(z.enum(['x86_64', 'arm64']))
    .length(1)
    .optional(),
});

const updateFunctionCodeRequest = z.object({
  ...codeSourceMembers,
  Publish: z.boolean().optional(),
  DryRun: z.boolean().optional(),
  RevisionId: z.string().optional(),
  Architectures: z
    .array(z.enum(['x86_64', 'arm64']))
    .length(1)
    .optional(),
});

const createFunction: LambdaOperation = async (context, request) => {
  const input = parseInput(createFunctionRequest, request.body);
  const packageType = input.PackageType ?? 'Zip';
  if (packageType === 'Zip' && (input.Runtime === undefined || input.Handler === undefined)) {
    throw lambdaError('InvalidParameterValueException', 'Runtime and Handler are mandatory parameters for functions created with deployment packages.');
  }
  const code = describeCode(input.Code);
  if ((code.codeLocation.kind === 'image') !== (packageType === 'Image')) {
    throw lambdaError('InvalidParameterValueException', `PackageType ${packageType} does not match the code source given.`);
  }
  const latest: FunctionConfiguration = {
    ...(input.Runtime !== undefined ? { runtime: input.Runtime } : {}),
    role: input.Role,
    ...(input.Handler !== undefined ? { handler: input.Handler } : {}),
    description: input.Description ?? '',
    timeout: input.Timeout ?? 3,
    memorySize: input.MemorySize ?? 128,
    ...(input.Environment?.Variables !== undefined ? { environment: input.Environment.Variables } : {}),
    packageType,
    architectures: input.Architectures ?? ['x86_64'],
    ...code,
    lastModified: new Date().toISOString(),
    revisionId: randomUUID(),
  };
  const created = await context.store.update(input.FunctionName, (current) => {
    if (current) throw lambdaError('ResourceConflictException', `Function already exist: ${input.FunctionName}`);
    const document = newFunctionDocument(input.FunctionName, latest);
    if (!input.Publish) return { write: document, result: { document, version: LATEST } };
    const published = publishNewVersion(document, '');
    return { write: published.document, result: { document: published.document, version: published.version.version } };
  });
  const configuration = resolveQualifier(context, created.document, created.version);
  return { status: 201, body: configurationView(context.scope, input.FunctionName, configuration, created.version) };
};

const getFunction: LambdaOperation = async (context, request) => {
  const { document, version, arnQualifier } = qualified(context, request.params.get('FunctionName')!, request.query.get('Qualifier'));
  const configuration = resolveQualifier(context, document, version);
  return {
    status: 200,
    body: {
      Configuration: configurationView(context.scope, document.name, configuration, configuration.version, arnQualifier),
      // No code is stored, so there is no download location to give.
      Code: { RepositoryType: configuration.codeLocation.kind === 'image' ? 'ECR' : 'S3' },
    },
  };
};

const getFunctionConfiguration: LambdaOperation = async (context, request) => {
  const { document, version, arnQualifier } = qualified(context, request.params.get('FunctionName')!, request.query.get('Qualifier'));
  const configuration = resolveQualifier(context, document, version);
  return { status: 200, body: configurationView(context.scope, document.name, configuration, configuration.version, arnQualifier) };
};

function qualified(context: LambdaContext, identifier: string, queryQualifier: string | null) {
  const reference = parseFunctionReference(context.scope, identifier);
  if (reference.qualifier !== undefined && queryQualifier !== null && reference.qualifier !== queryQualifier) {
    throw lambdaError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  const qualifier = reference.qualifier ?? queryQualifier ?? undefined;
  const document = requireFunction(context, reference.name, qualifier);
  // An alias keeps its own name in the ARN; a version number or $LATEST does not need it.
  const arnQualifier = qualifier !== undefined && qualifier !== LATEST && !/^\d+$/.test(qualifier) ? qualifier : undefined;
  return { document, version: qualifier ?? LATEST, arnQualifier };
}

const updateFunctionCode: LambdaOperation = async (context, request) => {
  const reference = parseFunctionReference(context.scope, request.params.get('FunctionName')!);
  const input = parseInput(updateFunctionCodeRequest, request.body);
  const code = describeCode(input);
  const updated = await context.store.update(reference.name, (current) => {
    if (!current) throw functionNotFound(context.scope, reference.name);
    const document = current;
    if (input.RevisionId !== undefined && input.RevisionId !== document.latest.revisionId) throw staleRevision('function');
    const latest: FunctionConfiguration = {
      ...document.latest,
      ...code,
      ...(input.Architectures ? { architectures: input.Architectures } : {}),
      lastModified: new Date().toISOString(),
      revisionId: randomUUID(),
    };
    const next = { ...document, latest };
    if (input.DryRun) return { result: { document: next, version: LATEST } };
    if (!input.Publish) return { write: next, result: { document: next, version: LATEST } };
    const published = publishNewVersion(next, '');
    return { write: published.document, result: { document: published.document, version: published.version.version } };
  });
  const configuration = resolveQualifier(context, updated.document, updated.version);
  return { status: 200, body: configurationView(context.scope, updated.document.name, configuration, updated.version) };
};

export function addFunctionRoutes(routes: RestRoutes): void {
  routes
    .add('POST', '/2015-03-31/functions', 'CreateFunction', createFunction)
    .add('GET', '/2015-03-31/functions/{FunctionName}', 'GetFunction', getFunction)
    .add('GET', '/2015-03-31/functions/{FunctionName}/configuration', 'GetFunctionConfiguration', getFunctionConfiguration)
    .add('PUT', '/2015-03-31/functions/{FunctionName}/code', 'UpdateFunctionCode', updateFunctionCode);
}
