import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MethodNotAllowed, RouteNotFound } from '../core/errors.ts';
import { authenticate, headerValue } from './api/authenticate.ts';
import { errorResponse, json } from './api/http.ts';
import { consoleResponse } from './api/console-assets.ts';
import { linkOperations } from './api/approval-operations.ts';
import { operations } from './api/operations.ts';
import { openApiDocument } from './api/openapi.ts';
import { apiRoutes, isLinkRoute } from './api/routes.ts';
import type { AuthenticatedOperation } from './api/routes.ts';
import type { HandlerDeps } from './shared/deps.ts';
import { lambdaHandler } from './shared/lambda-deps.ts';
import { ALL_PARTS } from './shared/deps.ts';
import { logger } from './shared/logger.ts';
import { handleMcpEvent } from './mcp/mcp-endpoint.ts';
import { receiveWebhook } from './api/trigger-operations.ts';
import { Invocation, tracing } from './shared/telemetry.ts';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The HTTP API (API Gateway REST proxy events): route, authenticate, call the operation, map errors. */
export async function handleApiEvent(deps: HandlerDeps, event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> {
  const offered = headerValue(event, 'x-correlation-id');
  const correlationId = offered && CORRELATION_ID.test(offered) ? offered : randomUUID();
  const telemetry = new Invocation(context, {
    step: 'Api',
    correlation_id: correlationId,
    run_id: event.resource?.startsWith('/runs/{id}') ? event.pathParameters?.id : undefined,
  });
  let response: APIGatewayProxyResult;
  try {
    response = await route(deps, event, correlationId, telemetry);
  } catch (error) {
    response = errorResponse(error, correlationId);
    telemetry.addError(error);
    if (response.statusCode >= 500) telemetry.log.error('request failed', { error: error as Error });
  }
  response.headers = { ...response.headers, 'x-correlation-id': correlationId };
  if (telemetry.logsInfo) telemetry.log.info('request handled', { method: event.httpMethod, resource: event.resource, status: response.statusCode });
  telemetry.publish();
  return response;
}

async function route(deps: HandlerDeps, event: APIGatewayProxyEvent, correlationId: string, telemetry: Invocation): Promise<APIGatewayProxyResult> {
  const candidates = apiRoutes.filter((candidate) => candidate.resource === event.resource);
  if (candidates.length === 0) throw new RouteNotFound(`no route for ${event.path}`);
  const found = candidates.find((candidate) => candidate.method === event.httpMethod);
  if (!found) throw new MethodNotAllowed(`${event.httpMethod} is not allowed on ${event.resource}; use ${candidates.map((c) => c.method).join(', ')}`);
  if (found.operation === 'health') return json(200, { status: 'ok' });
  if (found.operation === 'openApi') return json(200, openApiDocument());
  if (found.operation === 'console' || found.operation === 'consoleAsset') return consoleResponse(event, deps.config.identity);
  if (found.operation === 'mcp') return handleMcpEvent(deps, event, correlationId, (inner) => handleApiEvent(deps, inner));
  if (found.operation === 'receiveWebhook') return receiveWebhook({ event, deps, correlationId, telemetry });
  if (isLinkRoute(found)) return linkOperations[found.operation]({ event, deps, correlationId, telemetry });
  const principal = await authenticate(event, deps.config.identity, deps.tokenVerifier);
  telemetry.annotate({ principal: principal.id });
  return operations[found.operation as AuthenticatedOperation]({ event, deps, principal, correlationId });
}

export const createHandler = (deps: HandlerDeps) =>
  middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(tracing())
    .handler((event, context) => handleApiEvent(deps, event, context));

export const handler = lambdaHandler(createHandler, 'functions/handlers/api.ts', ALL_PARTS);
