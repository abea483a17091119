import { API_PARTS, apiFunction, authenticated } from './api/api-event.ts';
import { jsonText } from './api/http.ts';
import type { ServeRoute } from './api/api-event.ts';
import { openApiText } from './api/openapi-file.ts';
import { opsOperations } from './api/ops-operations.ts';
import type { OpsAuthenticatedOperation } from './api/routes.ts';
import { receiveWebhook } from './api/trigger-operations.ts';
import type { DepsParts } from './shared/compose-deps.ts';
import * as parts from './shared/ports.ts';
import { lambdaHandler } from './shared/lambda-deps.ts';

/** The operations API's routes (routes.ts, `family: 'ops'`): DR, drift, the outbox, audit, subscriptions, templates, triggers, egress checks, the contract. */
const serveOpsRoute: ServeRoute = async (route, request) => {
  if (route.operation === 'openApi') return jsonText(200, openApiText());
  if (route.operation === 'receiveWebhook') return receiveWebhook(request);
  return opsOperations[route.operation as OpsAuthenticatedOperation](await authenticated(request));
};

/** The operations API (API Gateway REST proxy events): route, authenticate, call the operation, map errors. */
export const { handleEvent: handleOpsApiEvent, createHandler } = apiFunction('ops', serveOpsRoute);

export const handlerParts = {
  ...API_PARTS,
  executor: parts.executor,
  actionContext: parts.actionContext,
  egress: parts.egress,
  outbox: parts.outbox,
  subscriptions: parts.subscriptions,
  drift: parts.drift,
  templates: parts.templates,
  triggers: parts.triggers,
  configTriggers: parts.configTriggers,
} satisfies Partial<DepsParts>;

export const handler = lambdaHandler(createHandler, 'functions/handlers/ops-api.ts', handlerParts);
