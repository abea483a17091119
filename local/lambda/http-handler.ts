// The REST-JSON wire protocol as Lambda speaks it: the operation is the method
// and path, input is path + query + JSON body, errors carry their code in the
// x-amzn-errortype header and {"Type","message"} in the body.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { epochSecondsReplacer } from '../emulator-support/json-rpc.ts';
import type { RequestListener } from '../emulator-support/loopback-server.ts';
import { BodyTooLargeError, readRequestBody } from '../emulator-support/request-body.ts';
import { parseJsonObject } from '../emulator-support/request-validation.ts';
import { asServiceError } from '../emulator-support/service-error.ts';
import type { ServiceError } from '../emulator-support/service-error.ts';
import { lambdaError } from './lambda-errors.ts';
import type { LambdaContext, RestReply } from './lambda-context.ts';
import type { RestRoutes } from './rest-routes.ts';

// Lambda takes a 50 MB zipped upload inline (about 67 MB as base64 JSON).
const MAX_BODY_BYTES = 70 * 1024 * 1024;

export function createLambdaRequestListener(context: LambdaContext, routes: RestRoutes): RequestListener {
  return (request, response) => {
    // An aborted upload must not surface as an unhandled 'error' event.
    request.on('error', () => undefined);
    handle(context, routes, request)
      .then((reply) => send(response, reply))
      .catch((error: unknown) => sendError(response, toLambdaError(error)))
      // Last resort: a failure while answering must not become an unhandled rejection.
      .catch(() => response.destroy());
  };
}

async function handle(context: LambdaContext, routes: RestRoutes, request: IncomingMessage): Promise<RestReply> {
  const body = await readRequestBody(request, MAX_BODY_BYTES);
  const url = new URL(request.url ?? '/', 'http://stand-in');
  const route = routes.match(request.method ?? 'GET', url.pathname);
  return route.operation(context, {
    params: route.params,
    query: url.searchParams,
    // Parsed on read: Invoke's payload need not be an object.
    get body() {
      return parseJsonObject(body);
    },
    payload: body,
    headers: request.headers,
  });
}

function send(response: ServerResponse, reply: RestReply): void {
  if (response.headersSent || response.destroyed) return;
  const text = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body, epochSecondsReplacer));
  response.writeHead(reply.status, {
    ...reply.headers,
    ...(text ? { 'content-type': 'application/json' } : {}),
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: ServiceError): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify({ Type: error.fault === 'Sender' ? 'User' : 'Service', message: error.message });
  response.writeHead(error.statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': error.code,
  });
  response.end(text);
}

function toLambdaError(error: unknown): ServiceError {
  if (error instanceof BodyTooLargeError) return lambdaError('RequestTooLargeException', error.message);
  return asServiceError(error, 'ServiceException', 'local Lambda stand-in');
}
