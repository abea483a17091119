// One endpoint, the three wire protocols CloudWatch clients speak:
// - AWS JSON 1.0 (X-Amz-Target: GraniteServiceVersion20100801.<Operation>),
//   what @aws-sdk/client-cloudwatch sends today, query-compatible: errors also
//   carry the query code in x-amzn-query-error;
// - Smithy RPC v2 CBOR (POST /service/.../operation/<Operation>), what current
//   AWS CLIs and botocore send;
// - the query protocol (Action=...&Version=2010-08-01, XML), what older SDKs send.
// All three reach the same operations with the same input object.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../emulator-support/json-rpc.ts';
import type { RequestListener } from '../emulator-support/loopback-server.ts';
import { BodyTooLargeError, readRequestBody } from '../emulator-support/request-body.ts';
import { parseJsonObject } from '../emulator-support/request-validation.ts';
import { asServiceError } from '../emulator-support/service-error.ts';
import type { ServiceError } from '../emulator-support/service-error.ts';
import { CBOR_CONTENT_TYPE, SMITHY_PROTOCOL, decodeCborInput, encodeCborOutput, parseCborPath } from './cbor-protocol.ts';
import { CloudWatchError, cloudWatchValidationError, queryCodeOf } from './cloudwatch-errors.ts';
import type { CloudWatchContext, CloudWatchOperation } from './cloudwatch-context.ts';
import { parseQueryRequest, xmlErrorResponse, xmlResponse } from './query-protocol.ts';

export const SERVICE_TARGET = 'GraniteServiceVersion20100801';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_BODY_BYTES = 1024 * 1024;

type Protocol = 'json' | 'cbor' | 'query';

interface Exchange {
  protocol: Protocol;
  /** Known once the operation is identified (for the XML element names). */
  operationName?: string;
}

export function createCloudWatchRequestListener(context: CloudWatchContext, operations: ReadonlyMap<string, CloudWatchOperation>): RequestListener {
  return (request, response) => {
    // An aborted upload must not surface as an unhandled 'error' event.
    request.on('error', () => undefined);
    const exchange: Exchange = { protocol: protocolOf(request) };
    handle(context, operations, request, exchange)
      .then((output) => sendOutput(response, exchange, output))
      .catch((error: unknown) => sendError(response, exchange, toServiceError(error)))
      // Last resort: a failure while answering must not become an unhandled rejection.
      .catch(() => response.destroy());
  };
}

function protocolOf(request: IncomingMessage): Protocol {
  if (request.headers['smithy-protocol'] === SMITHY_PROTOCOL) return 'cbor';
  if (request.headers['x-amz-target'] !== undefined) return 'json';
  return 'query';
}

async function handle(
  context: CloudWatchContext,
  operations: ReadonlyMap<string, CloudWatchOperation>,
  request: IncomingMessage,
  exchange: Exchange,
): Promise<object> {
  const body = await readRequestBody(request, MAX_BODY_BYTES);
  const url = new URL(request.url ?? '/', 'http://stand-in');
  let name: string | undefined;
  let input: Record<string, unknown>;
  if (exchange.protocol === 'query') {
    if (request.method !== 'POST' && request.method !== 'GET') throw unknownOperation(`HTTP method ${request.method}`, operations);
    const form = new URLSearchParams(url.search);
    if (request.method === 'POST') for (const [key, value] of new URLSearchParams(body.toString('utf8'))) form.append(key, value);
    ({ action: name, input } = parseQueryRequest(form));
  } else {
    if (request.method !== 'POST') throw unknownOperation(`HTTP method ${request.method}`, operations);
    if (exchange.protocol === 'cbor') {
      name = parseCborPath(url.pathname, SERVICE_TARGET);
      input = decodeCborInput(body);
    } else {
      const target = request.headers['x-amz-target'];
      name = typeof target === 'string' && target.startsWith(`${SERVICE_TARGET}.`) ? target.slice(SERVICE_TARGET.length + 1) : undefined;
      input = parseJsonObject(body, cloudWatchValidationError);
    }
  }
  const operation = name === undefined ? undefined : operations.get(name);
  if (!operation) throw unknownOperation(`Operation ${name ?? '(none)'}`, operations);
  exchange.operationName = name;
  return operation(context, input);
}

function unknownOperation(what: string, operations: ReadonlyMap<string, CloudWatchOperation>): CloudWatchError {
  return new CloudWatchError('InvalidAction', `${what} is not supported by the local CloudWatch stand-in; it serves: ${[...operations.keys()].join(', ')}`);
}

function sendOutput(response: ServerResponse, exchange: Exchange, output: object): void {
  if (exchange.protocol === 'json') sendJson(response, 200, JSON_CONTENT_TYPE, output);
  else if (exchange.protocol === 'cbor') sendBytes(response, 200, CBOR_CONTENT_TYPE, encodeCborOutput(output), { 'smithy-protocol': SMITHY_PROTOCOL });
  else sendBytes(response, 200, 'text/xml', Buffer.from(xmlResponse(exchange.operationName!, output)));
}

function sendError(response: ServerResponse, exchange: Exchange, error: ServiceError): void {
  const queryCode = queryCodeOf(error);
  // Query-compatible JSON and CBOR clients read the query code from this header.
  const queryHeader = { 'x-amzn-query-error': `${queryCode};${error.fault}` };
  if (exchange.protocol === 'json') {
    sendJson(
      response,
      error.statusCode,
      JSON_CONTENT_TYPE,
      { __type: `com.amazonaws.cloudwatch#${error.code}`, message: error.message },
      {
        'x-amzn-errortype': error.code,
        ...queryHeader,
      },
    );
    return;
  }
  if (exchange.protocol === 'cbor') {
    const body = encodeCborOutput({ __type: `com.amazonaws.cloudwatch#${error.code}`, message: error.message });
    sendBytes(response, error.statusCode, CBOR_CONTENT_TYPE, body, { 'smithy-protocol': SMITHY_PROTOCOL, ...queryHeader });
    return;
  }
  sendBytes(response, error.statusCode, 'text/xml', Buffer.from(xmlErrorResponse(error.fault, queryCode, error.message)));
}

function sendBytes(response: ServerResponse, statusCode: number, contentType: string, body: Buffer, headers: Record<string, string> = {}): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(statusCode, { 'content-type': contentType, 'content-length': body.length, 'x-amzn-requestid': randomUUID(), ...headers });
  response.end(body);
}

function toServiceError(error: unknown): ServiceError {
  if (error instanceof BodyTooLargeError) return new CloudWatchError('ValidationException', error.message);
  return asServiceError(error, 'InternalServiceFault', 'local CloudWatch stand-in');
}
