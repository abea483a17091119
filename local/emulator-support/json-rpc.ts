// The AWS JSON 1.0 / 1.1 RPC protocols: POST /, X-Amz-Target: <Prefix>.<Operation>,
// a JSON object in and out, errors as {"__type", "message"} with the code also
// in the x-amzn-errortype header.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServiceError, asServiceError } from './service-error.ts';
import { parseJsonObject } from './request-validation.ts';
import type { ValidationErrorFactory } from './request-validation.ts';
import { BodyTooLargeError, readRequestBody } from './request-body.ts';
import type { RequestListener } from './loopback-server.ts';

export type JsonOperation<Context> = (context: Context, input: Record<string, unknown>) => Promise<object>;

export interface JsonRpcService<Context> {
  targetPrefix: string;
  contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1';
  operations: ReadonlyMap<string, JsonOperation<Context>>;
  /** The error for a body that is not a JSON object (or too large). */
  validationError: ValidationErrorFactory;
  /** Stand-in name used in messages. */
  owner: string;
  /** Extra headers for an error reply (e.g. x-amzn-query-error for query-compatible services). */
  errorHeaders?(error: ServiceError): Record<string, string>;
  /** Error code for a failure of the stand-in itself (HTTP 500). */
  internalCode: string;
  maxBodyBytes: number;
}

/** Timestamps go out as epoch seconds, as every AWS JSON protocol sends them. */
export function epochSecondsReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Date ? raw.getTime() / 1000 : value;
}

export function createJsonRpcListener<Context>(service: JsonRpcService<Context>, context: Context): RequestListener {
  return (request, response) => {
    // An aborted upload must not surface as an unhandled 'error' event.
    request.on('error', () => undefined);
    readRequestBody(request, service.maxBodyBytes)
      .then((body) => runJsonRpc(service, context, request, body))
      .then((output) => sendJson(response, 200, service.contentType, output))
      .catch((error: unknown) => sendJsonError(service, response, toServiceError(service, error)))
      // Last resort: a failure while answering must not become an unhandled rejection.
      .catch(() => response.destroy());
  };
}

export function toServiceError<Context>(service: JsonRpcService<Context>, error: unknown): ServiceError {
  if (error instanceof BodyTooLargeError) return asServiceError(service.validationError(error.message), service.internalCode, service.owner);
  return asServiceError(error, service.internalCode, service.owner);
}

export async function runJsonRpc<Context>(service: JsonRpcService<Context>, context: Context, request: IncomingMessage, body: Buffer): Promise<object> {
  if (request.method !== 'POST') {
    throw new ServiceError('UnknownOperationException', `HTTP method ${request.method} is not supported; ${service.owner} takes POST /`);
  }
  const target = request.headers['x-amz-target'];
  const name = typeof target === 'string' && target.startsWith(`${service.targetPrefix}.`) ? target.slice(service.targetPrefix.length + 1) : undefined;
  const operation = name === undefined ? undefined : service.operations.get(name);
  if (!operation) {
    throw new ServiceError(
      'UnknownOperationException',
      `X-Amz-Target must be ${service.targetPrefix}.<Operation>, one of: ${[...service.operations.keys()].join(', ')}`,
    );
  }
  return operation(context, parseJsonObject(body, service.validationError));
}

export function sendJson(response: ServerResponse, statusCode: number, contentType: string, body: object, headers: Record<string, string> = {}): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body, epochSecondsReplacer);
  response.writeHead(statusCode, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  response.end(text);
}

export function sendJsonError<Context>(service: JsonRpcService<Context>, response: ServerResponse, error: ServiceError): void {
  sendJson(
    response,
    error.statusCode,
    service.contentType,
    { __type: error.code, message: error.message },
    {
      'x-amzn-errortype': error.code,
      ...service.errorHeaders?.(error),
    },
  );
}
