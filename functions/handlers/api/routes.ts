import { MethodNotAllowed, RouteNotFound } from '../../core/errors.ts';

/**
 * The HTTP API's routes: the one list that the API handler dispatches on, the local server matches
 * requests against, and the CDK stack turns into API Gateway resources and methods.
 * `resource` uses API Gateway's template syntax (`{id}`), exactly as it arrives in a proxy event.
 * Routes with `auth: 'link'` carry their own credential (a signed approval link), and `auth: 'signature'`
 * theirs (a webhook's HMAC over the body): no IAM, no token.
 * `family` names the function that serves the route: `ops` (functions/handlers/ops-api.ts: DR, drift,
 * the outbox, audit, subscriptions, templates, triggers, egress checks, the OpenAPI document) or, when
 * absent, the run API (functions/handlers/api.ts: runs, approvals, control, the catalog, MCP, the
 * console). Two functions, so that each bundle carries only its own routes' code and SDK clients.
 */
export const apiRoutes = [
  { method: 'GET', resource: '/health', operation: 'health' },
  // The contract, generated from the handlers' schemas (openapi.ts); served without a token, as /health.
  { method: 'GET', resource: '/openapi.json', operation: 'openApi', family: 'ops' },
  { method: 'POST', resource: '/runs', operation: 'createRun' },
  { method: 'GET', resource: '/runs', operation: 'listRuns' },
  { method: 'GET', resource: '/runs/{id}', operation: 'getRun' },
  { method: 'GET', resource: '/runs/{id}/events', operation: 'listRunEvents' },
  { method: 'POST', resource: '/runs/{id}/cancel', operation: 'cancelRun' },
  { method: 'POST', resource: '/runs/{id}/approve', operation: 'approveRun' },
  { method: 'POST', resource: '/runs/{id}/reject', operation: 'rejectRun' },
  { method: 'POST', resource: '/runs/{id}/rollback', operation: 'rollbackRun' },
  { method: 'GET', resource: '/approvals', operation: 'listApprovals' },
  // The link is the credential: an approver's email client carries nothing else (see approvals/links.ts).
  { method: 'GET', resource: '/approvals/{token}', operation: 'reviewApproval', auth: 'link' },
  { method: 'POST', resource: '/approvals/{token}', operation: 'decideByLink', auth: 'link' },
  { method: 'GET', resource: '/locks', operation: 'listLocks' },
  { method: 'GET', resource: '/control', operation: 'getControl' },
  { method: 'POST', resource: '/control/kill-switch', operation: 'setKillSwitch' },
  { method: 'POST', resource: '/control/freeze-overrides', operation: 'addFreezeOverride' },
  { method: 'GET', resource: '/outbox/dead-letters', operation: 'listDeadLetters', family: 'ops' },
  { method: 'POST', resource: '/outbox/redrive', operation: 'redriveOutbox', family: 'ops' },
  { method: 'POST', resource: '/runs/{id}/resume', operation: 'resumeRun' },
  { method: 'GET', resource: '/runs/{id}/audit/verify', operation: 'auditVerify', family: 'ops' },
  { method: 'GET', resource: '/audit/export', operation: 'auditExport', family: 'ops' },
  { method: 'GET', resource: '/slo', operation: 'getSlo', family: 'ops' },
  { method: 'POST', resource: '/egress/check', operation: 'checkEgress', family: 'ops' },
  { method: 'POST', resource: '/dr/backup', operation: 'drBackup', family: 'ops' },
  { method: 'POST', resource: '/dr/restore', operation: 'drRestore', family: 'ops' },
  { method: 'POST', resource: '/dr/restore/{jobId}/rollback', operation: 'drRollback', family: 'ops' },
  { method: 'GET', resource: '/dr/status/{id}', operation: 'drStatus', family: 'ops' },
  { method: 'GET', resource: '/dr/status/{id}/events', operation: 'drStatusEvents', family: 'ops' },
  { method: 'GET', resource: '/dr/targets/{target}', operation: 'drTarget', family: 'ops' },
  { method: 'GET', resource: '/actions', operation: 'listActions' },
  { method: 'GET', resource: '/actions/{name}', operation: 'getAction' },
  { method: 'GET', resource: '/drift', operation: 'listDrift', family: 'ops' },
  // Before /drift/{id}: the local server takes the first template that matches (API Gateway prefers the literal too).
  { method: 'POST', resource: '/drift/sweeps', operation: 'sweepDrift', family: 'ops' },
  { method: 'GET', resource: '/drift/{id}', operation: 'getDrift', family: 'ops' },
  { method: 'POST', resource: '/drift/{id}/remediate', operation: 'remediateDrift', family: 'ops' },
  { method: 'POST', resource: '/subscriptions', operation: 'createSubscription', family: 'ops' },
  { method: 'GET', resource: '/subscriptions', operation: 'listSubscriptions', family: 'ops' },
  { method: 'GET', resource: '/subscriptions/{id}', operation: 'getSubscription', family: 'ops' },
  { method: 'DELETE', resource: '/subscriptions/{id}', operation: 'deleteSubscription', family: 'ops' },
  { method: 'GET', resource: '/templates', operation: 'listTemplates', family: 'ops' },
  { method: 'POST', resource: '/templates', operation: 'putTemplate', family: 'ops' },
  { method: 'GET', resource: '/templates/{name}', operation: 'getTemplate', family: 'ops' },
  { method: 'POST', resource: '/templates/{name}/runs', operation: 'runTemplate', family: 'ops' },
  { method: 'GET', resource: '/triggers', operation: 'listTriggers', family: 'ops' },
  { method: 'POST', resource: '/triggers', operation: 'createTrigger', family: 'ops' },
  { method: 'GET', resource: '/triggers/{id}', operation: 'getTrigger', family: 'ops' },
  { method: 'POST', resource: '/triggers/{id}/pause', operation: 'pauseTrigger', family: 'ops' },
  { method: 'POST', resource: '/triggers/{id}/resume', operation: 'resumeTrigger', family: 'ops' },
  // A webhook's HMAC signature over its body is its credential: the sender (GitHub, a CI) holds no token (trigger-operations.ts).
  { method: 'POST', resource: '/webhooks/{id}', operation: 'receiveWebhook', auth: 'signature', family: 'ops' },
  // MCP (Streamable HTTP, stateless JSON answers): checks Host/Origin, then authenticates like any route (mcp/mcp-endpoint.ts).
  { method: 'POST', resource: '/mcp', operation: 'mcp' },
  // The web console's page and files (console-assets.ts): no credential; the page signs in and sends tokens itself.
  { method: 'GET', resource: '/console', operation: 'console', auth: 'public' },
  { method: 'GET', resource: '/console/{asset}', operation: 'consoleAsset', auth: 'public' },
] as const;

export type ApiRoute = (typeof apiRoutes)[number];
export type ApiOperation = ApiRoute['operation'];
/** The function a route goes to: `runs` (functions/handlers/api.ts) or `ops` (functions/handlers/ops-api.ts). */
export type ApiFamily = 'runs' | 'ops';
/** Routes of the operations API. */
export type OpsRoute = Extract<ApiRoute, { family: 'ops' }>;
export type OpsOperation = OpsRoute['operation'];

export const familyOf = (route: { readonly operation: string; readonly family?: ApiFamily }): ApiFamily => route.family ?? 'runs';

/** The route of a proxy event (`resource` and method as API Gateway sends them), or why there is none. */
export function routeOf(event: { resource?: string | null; path?: string | null; httpMethod: string }): ApiRoute {
  const candidates = apiRoutes.filter((candidate) => candidate.resource === event.resource);
  if (candidates.length === 0) throw new RouteNotFound(`no route for ${event.path}`);
  const found = candidates.find((candidate) => candidate.method === event.httpMethod);
  if (!found) throw new MethodNotAllowed(`${event.httpMethod} is not allowed on ${event.resource}; use ${candidates.map((c) => c.method).join(', ')}`);
  return found;
}
/** Operations whose credential is the signed link in their path. */
export type LinkOperation = Extract<ApiRoute, { auth: 'link' }>['operation'];
/** Operations the handler serves to anyone: in AWS, API Gateway still asks for SigV4 as on every route but the links. */
export type PublicOperation = 'health' | 'openApi' | 'console' | 'consoleAsset';
/** Operations that need an authenticated caller (bearer token locally, IAM in AWS). */
export type AuthenticatedOperation = Exclude<ApiOperation, LinkOperation | PublicOperation | SignedOperation | 'mcp'>;
/** The authenticated operations of each function. */
export type RunsAuthenticatedOperation = Exclude<AuthenticatedOperation, OpsOperation>;
export type OpsAuthenticatedOperation = Extract<AuthenticatedOperation, OpsOperation>;
/** Operations whose credential is a signature over the request body (webhooks). */
export type SignedOperation = Extract<ApiRoute, { auth: 'signature' }>['operation'];

export function isLinkRoute(route: ApiRoute): route is Extract<ApiRoute, { auth: 'link' }> {
  return 'auth' in route && route.auth === 'link';
}
