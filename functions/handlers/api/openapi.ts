import { builtOnce } from '../../core/built-once.ts';
import * as z from 'zod';
import { httpErrors } from '../../core/http-errors.ts';
import { operationContracts } from './api-contract.ts';
import type { OperationContract } from './api-contract.ts';
import { apiRoutes, isLinkRoute } from './routes.ts';
import type { ApiRoute, PublicOperation, SignedOperation } from './routes.ts';

type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, JsonSchema>> };

/** The version of the contract (bumped with a breaking change to a route). */
export const API_VERSION = '1.0.0';

const PUBLIC: ReadonlySet<string> = new Set<PublicOperation | SignedOperation>(['health', 'openApi', 'console', 'consoleAsset', 'receiveWebhook']);
/** What any authenticated operation can answer: bad input, no or unknown credential, a refused role, an internal error. */
const AUTHENTICATED_ERRORS = [400, 401, 403, 500];
/** What the approval-link pages can answer (as pages): an invalid or spent link, a decision that no longer applies. */
const LINK_ERRORS = [400, 403, 404, 409, 410];

const TAGS = [
  { name: 'runs', description: 'Runs: Plan → Apply → Verify of catalog actions' },
  { name: 'approvals', description: 'Human approval of plans: by an authenticated approver, or by a signed link' },
  { name: 'safety', description: 'The kill switch, change-freeze overrides, locks and the control record' },
  { name: 'actions', description: 'The action catalog' },
  { name: 'audit', description: 'The hash-chained audit trail and SLOs computed from it' },
  { name: 'dr', description: 'Disaster recovery: backups, restores and the traffic pointer' },
  { name: 'egress', description: 'Egress decisions for the internet-facing actions' },
  { name: 'outbox', description: "The event outbox's dead letters" },
  { name: 'templates', description: 'Run templates: versioned, parameterized run definitions' },
  { name: 'triggers', description: 'Triggers that create runs from templates: schedules, event patterns, signed webhooks' },
  { name: 'meta', description: 'Liveness, this document and the web console' },
];

/** JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) of what a client sends: the input side of the handler's zod schema. */
function requestSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return json;
}

/** JSON Schema of what the API answers (the output side). */
function responseSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  return json;
}

function objectParameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = requestSchema(schema);
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries((json.properties as Record<string, JsonSchema>) ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function headerParameters(headers: OperationContract['headers']): JsonSchema[] {
  return Object.entries(headers ?? {}).map(([name, schema]) => ({
    name,
    in: 'header',
    required: !schema.safeParse(undefined).success,
    schema: requestSchema(schema),
  }));
}

/** The codes an error answer of this status can carry, from the HTTP error table (core/http-errors.ts). */
function codesOf(status: number): string[] {
  if (status === 500) return ['InternalError'];
  return [...httpErrors()].filter(([, rule]) => rule.status === status && rule.exposed).map(([code]) => code);
}

const STATUS_TEXT: ReadonlyMap<number, string> = new Map([
  [400, 'Bad request: the body, a parameter or a header does not validate (`field` names it)'],
  [401, 'No credential, or an unknown one'],
  [403, 'The caller may not do this (role, policy, autonomy, unmanaged resource, egress)'],
  [404, 'Not found'],
  [409, 'Conflict with the current state'],
  [410, 'Gone: the approval or its wait token has expired'],
  [413, 'The body is larger than the API accepts'],
  [415, 'The body is not application/json'],
  [422, 'The action or its verification failed'],
  [423, 'Locked: the kill switch is engaged or the environment is frozen'],
  [429, 'Too many: a rate limit, a budget or the runs capacity (Retry-After may say when)'],
  [500, 'Internal error: quote the correlation id'],
  [503, 'Unavailable for now: retry (Retry-After says when)'],
]);

function errorResponse(status: number, link: boolean): JsonSchema {
  const description = STATUS_TEXT.get(status) ?? 'Error';
  if (link) return { description, content: { 'text/html': { schema: { type: 'string' } } } };
  return {
    description,
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/ErrorBody' },
            { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: codesOf(status) } } } } },
          ],
        },
      },
    },
  };
}

function operationObject(route: ApiRoute, contract: OperationContract): JsonSchema {
  const link = isLinkRoute(route);
  const open = PUBLIC.has(route.operation);
  const errorStatuses = [...new Set([...(link ? LINK_ERRORS : open ? [500] : AUTHENTICATED_ERRORS), ...(contract.errors ?? [])])].sort((a, b) => a - b);
  const { success } = contract;
  const successContent = success.schema
    ? { 'application/json': { schema: responseSchema(success.schema) } }
    : { [success.contentType!.split(';')[0]]: { schema: { type: 'string' } } };
  const roles = contract.roles ? ` Roles: ${contract.roles.join(' or ')}.` : open || link ? '' : ' Roles: any authenticated role.';
  return {
    operationId: route.operation,
    summary: contract.summary,
    description: `${contract.summary}.${roles}${link ? ' The link in the path is the credential: no other authentication.' : ''}`,
    tags: [contract.tag],
    ...(open || link ? { security: [] } : {}),
    parameters: [
      ...objectParameters(contract.path, 'path'),
      ...objectParameters(contract.query, 'query'),
      ...headerParameters(contract.headers),
      { $ref: '#/components/parameters/CorrelationId' },
    ],
    ...(contract.body
      ? {
          requestBody: {
            required: !contract.body.safeParse(undefined).success,
            content: {
              'application/json': { schema: requestSchema(contract.body) },
              ...(contract.formBody ? { 'application/x-www-form-urlencoded': { schema: requestSchema(contract.body) } } : {}),
            },
          },
        }
      : {}),
    responses: {
      ...(success.alsoStatus ? { [String(success.alsoStatus)]: { description: 'Success (answered before)', content: successContent } } : {}),
      [String(success.status)]: {
        description: 'Success',
        headers: Object.fromEntries(
          ['x-correlation-id', ...(success.headers ?? [])].map((name) => [name, { $ref: `#/components/headers/${headerComponent(name)}` }]),
        ),
        content: successContent,
      },
      ...Object.fromEntries(errorStatuses.map((status) => [String(status), { $ref: `#/components/responses/${link ? 'Page' : 'Error'}${status}` }])),
    },
  };
}

const headerComponent = (name: string) =>
  name
    .split('-')
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');

/** Builds the OpenAPI 3.1 document from the route list and each operation's contract. */
export function buildOpenApiDocument(): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const errorStatuses = new Set<string>();
  for (const route of apiRoutes) {
    const contract = operationContracts()[route.operation];
    paths[route.resource] ??= {};
    const operation = operationObject(route, contract);
    for (const answer of Object.values(operation.responses as Record<string, { $ref?: string }>))
      if (answer.$ref) errorStatuses.add(answer.$ref.split('/').at(-1)!);
    paths[route.resource][route.method.toLowerCase()] = operation;
  }
  const errorResponses = Object.fromEntries(
    [...errorStatuses].sort().map((name) => [name, errorResponse(Number(name.replace(/^\D+/, '')), name.startsWith('Page'))]),
  );
  return {
    openapi: '3.1.1',
    info: {
      title: 'Maestro control plane API',
      version: API_VERSION,
      summary: 'Run → Plan → Apply → Verify of catalog actions, with policy, approvals, audit and DR',
      description:
        'Errors are `{"error": {"code", "message", "field"?, "correlationId"}}`; the code is stable (docs/errors.md). Send `x-correlation-id` to choose the correlation id; every answer carries one.',
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'the embedded stack (npm start); in AWS, the stage URL (…/v1)' }],
    security: [{ bearerToken: [] }, { sigv4: [] }],
    tags: TAGS,
    paths,
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'The embedded stack: development tokens dev-operator, dev-approver, dev-admin' },
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: "AWS: IAM authorization, a request signed with SigV4 (service execute-api); roles come from the principal's role ARN",
        },
      },
      responses: errorResponses,
      parameters: {
        CorrelationId: {
          name: 'x-correlation-id',
          in: 'header',
          required: false,
          description: 'Your correlation id (1-128 of A-Z a-z 0-9 . _ : -); otherwise one is made',
          schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
        },
      },
      headers: {
        XCorrelationId: { description: 'The correlation id of the request', schema: { type: 'string' } },
        Location: { description: 'Where the created resource is', schema: { type: 'string' } },
        XRecordCount: { description: 'How many records the body holds', schema: { type: 'integer' } },
      },
      schemas: {
        ErrorBody: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'correlationId'],
              properties: {
                code: { type: 'string', enum: [...httpErrors().keys()].filter((code) => httpErrors().get(code)!.exposed).concat('InternalError') },
                message: { type: 'string' },
                field: { type: 'string', description: 'The field, parameter or header at fault' },
                correlationId: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
}

/** The document, built once per process. */
export const openApiDocument = /* @__PURE__ */ builtOnce(buildOpenApiDocument);
