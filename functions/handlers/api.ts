import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { json } from './api/http.ts';
import { consoleResponse } from './api/console-assets.ts';
import { linkOperations } from './api/approval-operations.ts';
import { authenticated, serveApiEvent } from './api/api-event.ts';
import type { ServeRoute } from './api/api-event.ts';
import { runOperations } from './api/operations.ts';
import { isLinkRoute } from './api/routes.ts';
import type { RunsAuthenticatedOperation } from './api/routes.ts';
import type { HandlerDeps } from './shared/deps.ts';
import { lambdaHandler } from './shared/lambda-deps.ts';
import type { DepsParts } from './shared/compose-deps.ts';
import * as parts from './shared/ports.ts';
import { RUN_STEP_PARTS } from './run/step-parts.ts';
import { logger } from './shared/logger.ts';
import { handleMcpEvent } from './mcp/mcp-endpoint.ts';
import { tracing } from './shared/telemetry.ts';

/** The run API's routes (routes.ts, no `family`): runs, approvals and their links, control, the catalog, MCP, the console. */
const serveRunRoute: ServeRoute = async (route, request) => {
  const { event, deps, correlationId } = request;
  if (route.operation === 'health') return json(200, { status: 'ok' });
  if (route.operation === 'console' || route.operation === 'consoleAsset') return consoleResponse(event, deps.config.identity);
  // MCP's tools call run routes only (maestro-tools.ts), through this same function.
  if (route.operation === 'mcp') return handleMcpEvent(deps, event, correlationId, (inner) => handleApiEvent(deps, inner));
  if (isLinkRoute(route)) return linkOperations[route.operation](request);
  return runOperations[route.operation as RunsAuthenticatedOperation](await authenticated(request));
};

/** The run API (API Gateway REST proxy events): route, authenticate, call the operation, map errors. */
export const handleApiEvent = (deps: HandlerDeps, event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> =>
  serveApiEvent('runs', serveRunRoute, deps, event, context);

export const createHandler = (deps: HandlerDeps) =>
  middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(tracing())
    .handler((event, context) => handleApiEvent(deps, event, context));

/** The ports the run API's operations reach: its bundle carries these adapters and their SDK clients only. */
export const handlerParts = {
  ...RUN_STEP_PARTS,
  unverifiedLinks: parts.unverifiedLinks,
  tokenVerifier: parts.tokenVerifier,
  engine: parts.engine,
  policy: parts.policy,
  linkSigner: parts.linkSigner,
  notifier: parts.notifier,
  dr: parts.dr,
} satisfies Partial<DepsParts>;

export const handler = lambdaHandler(createHandler, 'functions/handlers/api.ts', handlerParts);
