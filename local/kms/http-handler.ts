// The AWS JSON 1.1 wire protocol as KMS speaks it: POST /, X-Amz-Target:
// TrentService.<Operation>, JSON in and out, errors as {"__type", "message"}.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KmsError, validationError } from './kms-errors.ts';
import type { KmsContext, OperationHandler } from './kms-context.ts';
import { KEY_OPERATIONS } from './key-operations.ts';
import { CRYPTO_OPERATIONS } from './crypto-operations.ts';

const TARGET_PREFIX = 'TrentService.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
// Far above any valid KMS request (messages are at most 4 KiB), small enough to hold in memory.
const MAX_BODY_BYTES = 1024 * 1024;

const OPERATIONS: Readonly<Record<string, OperationHandler>> = { ...KEY_OPERATIONS, ...CRYPTO_OPERATIONS };

export type KmsRequestListener = (request: IncomingMessage, response: ServerResponse) => void;

export function createKmsRequestListener(context: KmsContext): KmsRequestListener {
  return (request, response) => {
    // An aborted upload must not surface as an unhandled 'error' event.
    request.on('error', () => undefined);
    handle(context, request)
      .then((output) => send(response, 200, output))
      .catch((error: unknown) => sendError(response, error))
      // Last resort: a failure while answering must not become an unhandled rejection.
      .catch(() => response.destroy());
  };
}

async function handle(context: KmsContext, request: IncomingMessage): Promise<object> {
  const body = await readBody(request);
  if (request.method !== 'POST') {
    throw new KmsError('UnsupportedOperationException', `HTTP method ${request.method} is not supported; KMS takes POST /`);
  }
  const operation = operationFor(request.headers['x-amz-target']);
  return operation(context, parseJsonObject(body));
}

function operationFor(target: string | string[] | undefined): OperationHandler {
  const name = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  if (name === undefined) {
    throw new KmsError('UnsupportedOperationException', `X-Amz-Target must be ${TARGET_PREFIX}<Operation>`);
  }
  // hasOwn keeps names such as "constructor" or "__proto__" from reaching Object.prototype.
  if (!Object.hasOwn(OPERATIONS, name)) {
    throw new KmsError(
      'UnsupportedOperationException',
      `Operation ${name} is not supported by the local KMS emulator; supported: ${Object.keys(OPERATIONS).join(', ')}`,
    );
  }
  return OPERATIONS[name];
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      // Keep draining an oversized body so the client still receives the error.
      if (!tooLarge) chunks.push(chunk);
    });
    request.on('end', () => {
      if (tooLarge) reject(validationError(`Request body exceeds ${MAX_BODY_BYTES} bytes`));
      else resolve(Buffer.concat(chunks));
    });
    request.on('error', reject);
  });
}

function parseJsonObject(body: Buffer): object {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw validationError('Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw validationError('Request body must be a JSON object');
  }
  return parsed;
}

function send(response: ServerResponse, statusCode: number, body: object, extraHeaders: Record<string, string> = {}): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(statusCode, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...extraHeaders,
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: unknown): void {
  const kmsError = error instanceof KmsError ? error : internalError(error);
  send(
    response,
    kmsError.statusCode,
    { __type: kmsError.type, message: kmsError.message },
    // The SDK reads the error code from __type; the header is what AWS also sends.
    { 'x-amzn-errortype': `${kmsError.type}:` },
  );
}

function internalError(error: unknown): KmsError {
  const detail = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: 'KMS emulator internal error', error: detail })}\n`);
  return new KmsError('KMSInternalException', `Internal error in the local KMS emulator: ${detail}`, 500);
}
