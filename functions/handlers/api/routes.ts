/**
 * The HTTP API's routes: the one list that the API handler dispatches on, the local server matches
 * requests against, and the CDK stack turns into API Gateway resources and methods.
 * `resource` uses API Gateway's template syntax (`{id}`), exactly as it arrives in a proxy event.
 */
export const apiRoutes = [
  { method: 'GET', resource: '/health', operation: 'health' },
  { method: 'POST', resource: '/runs', operation: 'createRun' },
  { method: 'GET', resource: '/runs', operation: 'listRuns' },
  { method: 'GET', resource: '/runs/{id}', operation: 'getRun' },
  { method: 'GET', resource: '/runs/{id}/events', operation: 'listRunEvents' },
  { method: 'POST', resource: '/runs/{id}/cancel', operation: 'cancelRun' },
] as const;

export type ApiRoute = (typeof apiRoutes)[number];
export type ApiOperation = ApiRoute['operation'];
