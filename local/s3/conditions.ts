import type { IncomingMessage } from 'node:http';
import { S3Error, S3Errors } from './errors.ts';
import { header } from './http.ts';
import { unquote } from './object-store.ts';
import type { ObjectVersion } from './types.ts';

function etagListMatches(list: string, etag: string): boolean {
  const wanted = unquote(etag);
  return list.split(',').some((candidate) => candidate.trim() === '*' || unquote(candidate) === wanted);
}

/** Compares at one-second resolution, as HTTP dates carry no milliseconds. */
function modifiedSince(version: ObjectVersion, httpDate: string): boolean | undefined {
  const since = Date.parse(httpDate);
  if (Number.isNaN(since)) return undefined;
  return Math.floor(Date.parse(version.lastModified) / 1000) > Math.floor(since / 1000);
}

function notModified(version: ObjectVersion): S3Error {
  return new S3Error(
    'NotModified',
    304,
    'Not Modified',
    {},
    {
      etag: version.etag,
      'last-modified': new Date(version.lastModified).toUTCString(),
    },
  );
}

/**
 * GET/HEAD conditions in RFC 7232 order: If-Match (else If-Unmodified-Since) → 412,
 * then If-None-Match (else If-Modified-Since) → 304.
 */
export function checkReadConditions(req: IncomingMessage, version: ObjectVersion): void {
  const ifMatch = header(req, 'if-match');
  const ifUnmodifiedSince = header(req, 'if-unmodified-since');
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, version.etag)) throw S3Errors.preconditionFailed('If-Match');
  } else if (ifUnmodifiedSince !== undefined && modifiedSince(version, ifUnmodifiedSince) === true) {
    throw S3Errors.preconditionFailed('If-Unmodified-Since');
  }

  const ifNoneMatch = header(req, 'if-none-match');
  const ifModifiedSince = header(req, 'if-modified-since');
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, version.etag)) throw notModified(version);
  } else if (ifModifiedSince !== undefined && modifiedSince(version, ifModifiedSince) === false) {
    throw notModified(version);
  }
}

/** `x-amz-copy-source-if-*`: every failed condition is a 412 for CopyObject. */
export function checkCopySourceConditions(req: IncomingMessage, version: ObjectVersion): void {
  const ifMatch = header(req, 'x-amz-copy-source-if-match');
  const ifNoneMatch = header(req, 'x-amz-copy-source-if-none-match');
  const ifModifiedSince = header(req, 'x-amz-copy-source-if-modified-since');
  const ifUnmodifiedSince = header(req, 'x-amz-copy-source-if-unmodified-since');
  if (ifMatch !== undefined && !etagListMatches(ifMatch, version.etag)) {
    throw S3Errors.preconditionFailed('x-amz-copy-source-If-Match');
  }
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, version.etag)) {
    throw S3Errors.preconditionFailed('x-amz-copy-source-If-None-Match');
  }
  if (ifUnmodifiedSince !== undefined && ifMatch === undefined && modifiedSince(version, ifUnmodifiedSince) === true) {
    throw S3Errors.preconditionFailed('x-amz-copy-source-If-Unmodified-Since');
  }
  if (ifModifiedSince !== undefined && ifNoneMatch === undefined && modifiedSince(version, ifModifiedSince) === false) {
    throw S3Errors.preconditionFailed('x-amz-copy-source-If-Modified-Since');
  }
}

/**
 * Conditional writes (PutObject, CompleteMultipartUpload): `If-None-Match: *` refuses an existing key,
 * `If-Match: <etag>` requires the current object to have that ETag. Evaluated against the current
 * object inside the key lock, so two racing writers cannot both win.
 */
export function writeConditions(req: IncomingMessage, key: string): (current: ObjectVersion | undefined) => void {
  const ifNoneMatch = header(req, 'if-none-match');
  const ifMatch = header(req, 'if-match');
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw S3Errors.notImplemented('If-None-Match with a value other than *');
  }
  return (current) => {
    if (ifNoneMatch !== undefined && current) throw S3Errors.preconditionFailed('If-None-Match');
    if (ifMatch !== undefined) {
      if (!current) throw S3Errors.noSuchKey(key);
      if (!etagListMatches(ifMatch, current.etag)) throw S3Errors.preconditionFailed('If-Match');
    }
  };
}

/**
 * Conditional deletes (DeleteObject without a versionId): `If-Match: <etag>` or `If-Match: *` requires a
 * current object (404 NoSuchKey when there is none, a delete marker included) with that ETag (412 if not).
 */
export function deleteConditions(ifMatch: string, key: string): (current: ObjectVersion | undefined) => void {
  return (current) => {
    if (!current) throw S3Errors.noSuchKey(key);
    if (!etagListMatches(ifMatch, current.etag)) throw S3Errors.preconditionFailed('If-Match');
  };
}

/**
 * A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range. Anything else (several ranges, bad syntax) is
 * ignored and the whole object served, as S3 does; a start past the end is 416.
 */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined || size === 0) return undefined;
  const match = /^\s*bytes=(\d*)-(\d*)\s*$/.exec(value);
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) throw S3Errors.invalidRange(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) throw S3Errors.invalidRange(size);
  return { start, end };
}
