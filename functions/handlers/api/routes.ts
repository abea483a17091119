/**
 * The HTTP API's routes: the one list that the API handler dispatches on, the local server matches
 * requests against, and the CDK stack turns into API Gateway resources and methods.
 * `resource` uses API Gateway's template syntax (`{id}`), exactly as it arrives in a proxy event.
 * Routes with `auth: 'link'` carry their own credential (a signed approval link), and `auth: 'signature'`
 * theirs (a webhook's HMAC over the body): no IAM, no token.
 */
export const apiRoutes = [
  { method: 'GET', resource: '/health', operation: 'health' },
  // The contract, generated from the handlers' schemas (openapi.ts); served without a token, as /health.
  { method: 'GET', resource: '/openapi.json', operation: 'openApi' },
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
  { method: 'GET', resource: '/outbox/dead-letters', operation: 'listDeadLetters' },
  { method: 'POST', resource: '/outbox/redrive', operation: 'redriveOutbox' },
  { method: 'POST', resource: '/runs/{id}/resume', operation: 'resumeRun' },
  { method: 'GET', resource: '/runs/{id}/audit/verify', operation: 'auditVerify' },
  { method: 'GET', resource: '/audit/export', operation: 'auditExport' },
  { method: 'GET', resource: '/slo', operation: 'getSlo' },
  { method: 'POST', resource: '/egress/check', operation: 'checkEgress' },
  { method: 'POST', resource: '/dr/backup', operation: 'drBackup' },
  { method: 'POST', resource: '/dr/restore', operation: 'drRestore' },
  { method: 'POST', resource: '/dr/restore/{jobId}/rollback', operation: 'drRollback' },
  { method: 'GET', resource: '/dr/status/{id}', operation: 'drStatus' },
  { method: 'GET', resource: '/dr/status/{id}/events', operation: 'drStatusEvents' },
  { method: 'GET', resource: '/dr/targets/{target}', operation: 'drTarget' },
  { method: 'GET', resource: '/actions', operation: 'listActions' },
  { method: 'GET', resource: '/actions/{name}', operation: 'getAction' },
  { method: 'GET', resource: '/drift', operation: 'listDrift' },
  // Before /drift/{id}: the local server takes the first template that matches (API Gateway prefers the literal too).
  { method: 'POST', resource: '/drift/sweeps', operation: 'sweepDrift' },
  { method: 'GET', resource: '/drift/{id}', operation: 'getDrift' },
  { method: 'POST', resource: '/drift/{id}/remediate', operation: 'remediateDrift' },
  { method: 'POST', resource: '/subscriptions', operation: 'createSubscription' },
  { method: 'GET', resource: '/subscriptions', operation: 'listSubscriptions' },
  { method: 'GET', resource: '/subscriptions/{id}', operation: 'getSubscription' },
  { method: 'DELETE', resource: '/subscriptions/{id}', operation: 'deleteSubscription' },
  { method: 'GET', resource: '/templates', operation: 'listTemplates' },
  { method: 'POST', resource: '/templates', operation: 'putTemplate' },
  { method: 'GET', resource: '/templates/{name}', operation: 'getTemplate' },
  { method: 'POST', resource: '/templates/{name}/runs', operation: 'runTemplate' },
  { method: 'GET', resource: '/triggers', operation: 'listTriggers' },
  { method: 'POST', resource: '/triggers', operation: 'createTrigger' },
  { method: 'GET', resource: '/triggers/{id}', operation: 'getTrigger' },
  { method: 'POST', resource: '/triggers/{id}/pause', operation: 'pauseTrigger' },
  { method: 'POST', resource: '/triggers/{id}/resume', operation: 'resumeTrigger' },
  // A webhook's HMAC signature over its body is its credential: the sender (GitHub, a CI) holds no token (trigger-operations.ts).
  { method: 'POST', resource: '/webhooks/{id}', operation: 'receiveWebhook', auth: 'signature' },
  // MCP (Streamable HTTP, stateless JSON answers): checks Host/Origin, then authenticates like any route (mcp/mcp-endpoint.ts).
  { method: 'POST', resource: '/mcp', operation: 'mcp' },
  // The web console's page and files (console-assets.ts): no credential; the page signs in and sends tokens itself.
  { method: 'GET', resource: '/console', operation: 'console', auth: 'public' },
  { method: 'GET', resource: '/console/{asset}', operation: 'consoleAsset', auth: 'public' },
] as const;

export type ApiRoute = (typeof apiRoutes)[number];
export type ApiOperation = ApiRoute['operation'];
/** Operations whose credential is the signed link in their path. */
export type LinkOperation = Extract<ApiRoute, { auth: 'link' }>['operation'];
/** Operations the handler serves to anyone: in AWS, API Gateway still asks for SigV4 as on every route but the links. */
export type PublicOperation = 'health' | 'openApi' | 'console' | 'consoleAsset';
/** Operations that need an authenticated caller (bearer token locally, IAM in AWS). */
export type AuthenticatedOperation = Exclude<ApiOperation, LinkOperation | PublicOperation | SignedOperation | 'mcp'>;
/** Operations whose credential is a signature over the request body (webhooks). */
export type SignedOperation = Extract<ApiRoute, { auth: 'signature' }>['operation'];

export function isLinkRoute(route: ApiRoute): route is Extract<ApiRoute, { auth: 'link' }> {
  return 'auth' in route && route.auth === 'link';
}
