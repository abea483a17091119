import { json } from './api/http.ts';
import { consoleResponse } from './api/console-assets.ts';
import { linkOperations } from './api/approval-operations.ts';
import { API_PARTS, apiFunction, authenticated } from './api/api-event.ts';
import type { ServeRoute } from './api/api-event.ts';
import { runOperations } from './api/operations.ts';
import { isLinkRoute } from './api/routes.ts';
import type { RunsAuthenticatedOperation } from './api/routes.ts';
import { lambdaHandler } from './shared/lambda-deps.ts';
import type { DepsParts } from './shared/compose-deps.ts';
import * as parts from './shared/ports.ts';
import { handleMcpEvent } from './mcp/mcp-endpoint.ts';

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
export const { handleEvent: handleApiEvent, createHandler } = apiFunction('runs', serveRunRoute);

export const handlerParts = {
  ...API_PARTS,
  unverifiedLinks: parts.unverifiedLinks,
  notifier: parts.notifier,
} satisfies Partial<DepsParts>;

export const handler = lambdaHandler(createHandler, 'functions/handlers/api.ts', handlerParts);
