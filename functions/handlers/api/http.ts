import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { InvalidJson, PayloadTooLarge, UnsupportedMediaType } from '../../core/errors.ts';
import type { MaestroError } from '../../core/errors.ts';
import { httpRuleOf } from '../../core/http-errors.ts';
import { headerValue } from './authenticate.ts';

/** Request bodies above this are refused (API Gateway itself allows up to 10 MB). */
export const MAX_BODY_BYTES = 256 * 1024;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return jsonText(statusCode, JSON.stringify(body), headers);
}

/** A JSON response whose body is already JSON text (a generated document served as it is). */
export function jsonText(statusCode: number, text: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: text };
}

/** The JSON body, or undefined when there is none; refuses oversize, non-JSON and malformed bodies. */
export function readJsonBody(event: APIGatewayProxyEvent): unknown {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.length > MAX_BODY_BYTES) throw new PayloadTooLarge(`the body is ${raw.length} bytes; at most ${MAX_BODY_BYTES} are accepted`, { field: 'body' });
  const contentType = headerValue(event, 'content-type');
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType)) {
    throw new UnsupportedMediaType(`send the body as application/json, not ${contentType}`, { field: 'Content-Type' });
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new InvalidJson(`the body is not valid JSON: ${(error as Error).message}`, { field: 'body' });
  }
}

/**
 * Exposed errors (core/http-errors.ts: client errors, and the few retryable server ones) carry their
 * code, message and field; anything else is a generic 500 with the correlation id.
 */
export function errorResponse(error: unknown, correlationId: string): APIGatewayProxyResult {
  const rule = httpRuleOf(error);
  if (rule.exposed) {
    const { message, field, details } = error as MaestroError;
    const retryAfter = details?.retryAfterSeconds;
    const headers: Record<string, string> = typeof retryAfter === 'number' ? { 'retry-after': String(Math.max(1, Math.ceil(retryAfter))) } : {};
    return json(rule.status, { error: { code: rule.code, message, field, correlationId } }, headers);
  }
  return json(500, { error: { code: 'InternalError', message: `internal error; quote correlation id ${correlationId}`, correlationId } });
}
