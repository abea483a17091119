import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SfnApiError } from './sfn-errors.ts';

/** One API operation: the parsed JSON request in, the JSON response body out (or an SfnApiError thrown). */
export type SfnOperation = (request: Record<string, unknown>) => unknown;

export interface SfnJsonServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
// Execution input and task output are capped at 256 KiB by AWS; this leaves room for the envelope.
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The AWS JSON 1.0 protocol as Step Functions speaks it: `POST /` with `X-Amz-Target:
 * AWSStepFunctions.<Operation>` and a JSON body; errors are HTTP 400 with `{"__type", "message"}`,
 * which the SDK v3 turns into exceptions of that name. Bad input never escapes as a crash.
 */
export async function startSfnJsonServer(options: { host: string; port: number; operations: Record<string, SfnOperation> }): Promise<SfnJsonServer> {
  const server = createServer((request, response) => {
    handle(request, response, options.operations).catch((error: unknown) => {
      sendError(response, 500, 'InternalFailure', error instanceof Error ? error.message : String(error));
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SDK clients keep connections alive; without this close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, operations: Record<string, SfnOperation>): Promise<void> {
  const body = await readBody(request);
  if (body === undefined) return sendError(response, 400, 'ValidationException', `Request body larger than ${MAX_BODY_BYTES} bytes`);
  const target = String(request.headers['x-amz-target'] ?? '');
  const operationName = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  if (request.method !== 'POST' || !Object.hasOwn(operations, operationName)) {
    return sendError(response, 400, 'UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`);
  }
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? {} : JSON.parse(body);
  } catch {
    return sendError(response, 400, 'SerializationException', 'Malformed JSON request body');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return sendError(response, 400, 'SerializationException', 'The request body must be a JSON object');
  }
  let result: unknown;
  try {
    result = await operations[operationName](parsed as Record<string, unknown>);
  } catch (error) {
    if (error instanceof SfnApiError) return sendError(response, 400, error.type, error.message);
    return sendError(response, 500, 'InternalFailure', error instanceof Error ? error.message : String(error));
  }
  send(response, 200, result ?? {});
}

/** The request body as text, or undefined when it is larger than the limit. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    if (!tooLarge) chunks.push(chunk as Buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks).toString('utf8');
}

function sendError(response: ServerResponse, status: number, type: string, message: string): void {
  send(response, status, { __type: type, message });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(text);
}
