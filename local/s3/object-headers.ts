import type { IncomingMessage } from 'node:http';
import { S3Errors } from './errors.ts';
import { header } from './http.ts';
import { storedContentEncoding } from './request-body.ts';
import { NULL_VERSION_ID, type ObjectVersion } from './types.ts';

/** Representation headers S3 stores with an object and returns on GET/HEAD. */
const STORED_HEADERS = ['content-type', 'content-disposition', 'content-language', 'cache-control', 'expires'] as const;

const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
const MAX_KEY_BYTES = 1024;
const VERSION_ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export function representationHeaders(req: IncomingMessage): Record<string, string> {
  const stored: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = header(req, name);
    if (value !== undefined) stored[name] = value;
  }
  const encoding = storedContentEncoding(req);
  if (encoding !== undefined) stored['content-encoding'] = encoding;
  return stored;
}

export function userMetadata(req: IncomingMessage): Record<string, string> {
  const metadata: Record<string, string> = Object.create(null); // `x-amz-meta-__proto__` is a name like any other
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) {
      metadata[name.slice('x-amz-meta-'.length)] = Array.isArray(value) ? value.join(',') : value;
    }
  }
  return metadata;
}

/** Headers describing a stored version on GET/HEAD (everything except length and range). */
export function versionHeaders(version: ObjectVersion): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': DEFAULT_CONTENT_TYPE,
    ...version.headers,
    etag: version.etag,
    'last-modified': new Date(version.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
  };
  if (version.versionId !== NULL_VERSION_ID) headers['x-amz-version-id'] = version.versionId;
  for (const [name, value] of Object.entries(version.metadata)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

/** The header announcing the version a write created, which S3 omits for the "null" version. */
export function versionIdHeader(versionId: string | undefined): Record<string, string> {
  return versionId === undefined || versionId === NULL_VERSION_ID ? {} : { 'x-amz-version-id': versionId };
}

export function assertKeyLength(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw S3Errors.keyTooLong();
}

/** The `versionId` query parameter, validated the way S3 does: ids we could not have issued are 400s. */
export function versionIdParam(query: URLSearchParams): string | undefined {
  const versionId = query.get('versionId');
  if (versionId === null) return undefined;
  return validVersionId(versionId);
}

export function validVersionId(versionId: string): string {
  if (versionId === '') throw S3Errors.invalidArgument('Version id cannot be the empty string', 'versionId', '');
  if (versionId !== NULL_VERSION_ID && !VERSION_ID_PATTERN.test(versionId)) {
    throw S3Errors.invalidArgument('Invalid version id specified', 'versionId', versionId);
  }
  return versionId;
}

/** `response-content-type` and friends: per-request overrides of the stored headers on GET. */
export function responseOverrides(query: URLSearchParams): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const name of ['content-type', 'content-language', 'expires', 'cache-control', 'content-disposition', 'content-encoding']) {
    const value = query.get(`response-${name}`);
    if (value !== null) overrides[name] = value;
  }
  return overrides;
}
