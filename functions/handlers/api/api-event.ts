import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { RouteNotFound } from '../../core/errors.ts';
import type { DepsParts } from '../shared/compose-deps.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import * as parts from '../shared/ports.ts';
import { RUN_STEP_PARTS } from '../run/step-parts.ts';
import { logger } from '../shared/logger.ts';
import { Invocation, tracing } from '../shared/telemetry.ts';
import { authenticate, headerValue } from './authenticate.ts';
import { errorResponse } from './http.ts';
import type { OperationRequest } from './operation-request.ts';
import { familyOf, routeOf } from './routes.ts';
import type { ApiFamily, ApiRoute } from './routes.ts';

/**
 * The ports both API functions reach: the run steps' common ones, token verification, and what starting
 * and gating a run needs (the engine, Cedar, the link key, DR's targets). Each entry adds its routes' own.
 */
export const API_PARTS = {
  ...RUN_STEP_PARTS,
  tokenVerifier: parts.tokenVerifier,
  engine: parts.engine,
  policy: parts.policy,
  linkSigner: parts.linkSigner,
  dr: parts.dr,
} satisfies Partial<DepsParts>;

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What a family's dispatch gets for one request, before anyone is authenticated. */
export interface RouteRequest {
  event: APIGatewayProxyEvent;
  deps: HandlerDeps;
  correlationId: string;
  telemetry: Invocation;
}

/** Serves one route of a family (functions/handlers/api.ts, ops-api.ts). */
export type ServeRoute = (route: ApiRoute, request: RouteRequest) => Promise<APIGatewayProxyResult>;

/**
 * One HTTP request to an API function (API Gateway REST proxy events): the correlation id, the route,
 * the family's dispatch, errors mapped to their status. A route of the other family is not this
 * function's (API Gateway sends it to the other; the embedded server as well).
 */
async function serveApiEvent(
  family: ApiFamily,
  serve: ServeRoute,
  deps: HandlerDeps,
  event: APIGatewayProxyEvent,
  context?: Context,
): Promise<APIGatewayProxyResult> {
  const offered = headerValue(event, 'x-correlation-id');
  const correlationId = offered && CORRELATION_ID.test(offered) ? offered : randomUUID();
  const telemetry = new Invocation(context, {
    step: family === 'ops' ? 'OpsApi' : 'Api',
    correlation_id: correlationId,
    run_id: event.resource?.startsWith('/runs/{id}') ? event.pathParameters?.id : undefined,
  });
  let response: APIGatewayProxyResult;
  try {
    const route = routeOf(event);
    if (familyOf(route) !== family) throw new RouteNotFound(`${route.method} ${route.resource} is served by the ${familyOf(route)} API function`);
    response = await serve(route, { event, deps, correlationId, telemetry });
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

/** The request of an operation that needs a caller: authenticated (bearer token or IAM) first. */
export async function authenticated({ event, deps, correlationId, telemetry }: RouteRequest): Promise<OperationRequest> {
  const principal = await authenticate(event, deps.config.identity, deps.tokenVerifier);
  telemetry.annotate({ principal: principal.id });
  return { event, deps, principal, correlationId };
}

/** One API function's entry points: its event handler (tests, MCP's in-process calls) and its middy handler factory. */
export function apiFunction(family: ApiFamily, serve: ServeRoute) {
  const handleEvent = (deps: HandlerDeps, event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> =>
    serveApiEvent(family, serve, deps, event, context);
  const createHandler = (deps: HandlerDeps) =>
    middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(tracing())
      .handler((event, context) => handleEvent(deps, event, context));
  return { handleEvent, createHandler };
}
