import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Error } from './errors.ts';
import type { ObjectStore } from './object-store.ts';
import { textElement } from './xml.ts';

/** One parsed request, handed to the operation that serves it. */
export interface S3Request {
  req: IncomingMessage;
  res: ServerResponse;
  store: ObjectStore;
  method: string;
  /** '' for service-level requests (ListBuckets). */
  bucket: string;
  /** '' for bucket-level requests. */
  key: string;
  query: URLSearchParams;
  requestId: string;
  /** `bucket/key` of writes stored but never answered (S3EmulatorOptions.unansweredWrites). */
  unanswered?: ReadonlySet<string>;
}

export type OperationHandler = (request: S3Request) => Promise<void>;

/** The single account that owns everything here; the id has the shape of an S3 canonical user id. */
export const OWNER = {
  id: createHash('sha256').update('maestro-local').digest('hex'),
  displayName: 'maestro-local',
} as const;

export function ownerXml(name = 'Owner'): string {
  return `<${name}>${textElement('ID', OWNER.id)}${textElement('DisplayName', OWNER.displayName)}</${name}>`;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

export function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/xml',
    'content-length': String(body.length),
  });
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-length': '0' });
  res.end();
}

/** Writes an S3 error document; HEAD and 304 responses carry the status and headers only, as on S3. */
export function sendError(request: Pick<S3Request, 'req' | 'res' | 'requestId'>, error: S3Error, resource: string): void {
  const { req, res, requestId } = request;
  if (res.headersSent) {
    // Too late for an error document: cut the connection so the client sees a failure, not a short body.
    res.destroy(error);
    return;
  }
  if (req.method === 'HEAD' || error.status === 304) {
    sendEmpty(res, error.status, error.headers);
    return;
  }
  const details = Object.entries(error.details)
    .map(([name, value]) => textElement(name, value))
    .join('');
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    textElement('Code', error.code) +
    textElement('Message', error.message) +
    details +
    textElement('Resource', resource) +
    textElement('RequestId', requestId) +
    textElement('HostId', requestId) +
    '</Error>';
  sendXml(res, error.status, xml, error.headers);
}
