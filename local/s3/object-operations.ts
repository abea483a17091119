import { open, rm, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { readXmlBody } from './bucket-operations.ts';
import { checkCopySourceConditions, checkReadConditions, deleteConditions, parseRange, writeConditions } from './conditions.ts';
import { S3Error, S3Errors } from './errors.ts';
import { header, sendEmpty, sendXml, type S3Request } from './http.ts';
import {
  assertKeyLength,
  representationHeaders,
  responseOverrides,
  userMetadata,
  validVersionId,
  versionHeaders,
  versionIdHeader,
  versionIdParam,
} from './object-headers.ts';
import type { ObjectStore } from './object-store.ts';
import { receiveBodyToFile } from './request-body.ts';
import { currentObject, type DeleteOutcome, type ObjectVersion } from './types.ts';
import { childElements, childText, element, textElement, xmlDocument } from './xml.ts';

const MAX_DELETE_OBJECTS = 1000;

/**
 * The version a read addresses: the latest (404 NoSuchKey, flagged, if it is a delete marker) or the one
 * named by versionId (404 NoSuchVersion; 405 if it is a delete marker), as S3 answers.
 */
function resolveVersion(store: ObjectStore, bucket: string, key: string, versionId: string | undefined): ObjectVersion {
  const record = store.keyRecord(bucket, key);
  if (versionId === undefined) {
    const latest = record?.versions[0];
    if (!latest) throw S3Errors.noSuchKey(key);
    if (latest.isDeleteMarker) {
      throw S3Errors.noSuchKey(key, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': latest.versionId });
    }
    return latest;
  }
  const version = record?.versions.find((v) => v.versionId === versionId);
  if (!version) throw S3Errors.noSuchVersion(key, versionId);
  if (version.isDeleteMarker) throw S3Errors.methodNotAllowedOnDeleteMarker(version.versionId, version.lastModified);
  return version;
}

/** The byte range of part `raw` of a version; a single-part object is its own part 1. */
function partRange(version: ObjectVersion, raw: string): { start: number; end: number } {
  const sizes = version.partSizes ?? [version.size];
  const partNumber = Number(raw);
  if (!/^\d+$/.test(raw) || partNumber < 1) throw S3Errors.invalidArgument('Part number must be a positive integer', 'partNumber', raw);
  if (partNumber > sizes.length) throw S3Errors.invalidPartNumber();
  const start = sizes.slice(0, partNumber - 1).reduce((sum, size) => sum + size, 0);
  return { start, end: start + sizes[partNumber - 1] - 1 };
}

export async function putObject(request: S3Request): Promise<void> {
  const { req, res, store, bucket, key } = request;
  store.bucket(bucket);
  assertKeyLength(key);
  const check = writeConditions(req, key);
  // Fail fast before reading a body that could not be stored; checked again, atomically, at commit.
  check(currentObject(store.keyRecord(bucket, key)));

  const tempFile = store.newTempPath();
  const body = await receiveBodyToFile(req, tempFile);
  try {
    const version = await store.putObject(
      bucket,
      key,
      {
        tempFile,
        etag: `"${body.md5Hex}"`,
        size: body.size,
        headers: representationHeaders(req),
        metadata: userMetadata(req),
        crc32: body.crc32,
      },
      check,
    );
    if (request.unanswered?.has(`${bucket}/${key}`)) return;
    sendEmpty(res, 200, {
      etag: version.etag,
      'x-amz-checksum-crc32': body.crc32,
      'x-amz-checksum-type': 'FULL_OBJECT',
      ...versionIdHeader(version.versionId),
    });
  } catch (error) {
    await rm(tempFile, { force: true });
    throw error;
  }
}

async function readObject(request: S3Request, withBody: boolean): Promise<void> {
  const { req, res, store, bucket, key, query } = request;
  store.bucket(bucket);
  const versionId = versionIdParam(query);

  // The blob is opened under the key lock so a concurrent delete cannot remove it between lookup and open.
  const { version, file } = await store.withKey(bucket, key, async () => {
    const found = resolveVersion(store, bucket, key, versionId);
    checkReadConditions(req, found);
    const handle: FileHandle | undefined = withBody && found.size > 0 ? await open(store.blobPath(bucket, found.blobId!), 'r') : undefined;
    return { version: found, file: handle };
  });

  let handle = file;
  try {
    const partNumber = query.get('partNumber');
    const range = partNumber === null ? parseRange(header(req, 'range'), version.size) : partRange(version, partNumber);
    const headers: Record<string, string> = { ...versionHeaders(version), ...responseOverrides(query) };
    if (range === undefined && version.crc32 && header(req, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      headers['x-amz-checksum-crc32'] = version.crc32;
      headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    if (partNumber !== null) headers['x-amz-mp-parts-count'] = String(version.partSizes?.length ?? 1);
    const start = range?.start ?? 0;
    const end = range?.end ?? version.size - 1;
    const partial = range !== undefined && end >= start;
    headers['content-length'] = String(Math.max(0, end - start + 1));
    if (partial) headers['content-range'] = `bytes ${start}-${end}/${version.size}`;
    res.writeHead(partial ? 206 : 200, headers);

    if (!handle || end < start) {
      res.end();
      return;
    }
    const stream = handle.createReadStream({ start, end });
    handle = undefined; // the stream owns the file now and closes it when it ends or is destroyed
    await pipeline(stream, res).catch(() => {
      // The client went away mid-download: nobody to answer.
    });
  } finally {
    await handle?.close();
  }
}

export function getObject(request: S3Request): Promise<void> {
  return readObject(request, true);
}

export function headObject(request: S3Request): Promise<void> {
  return readObject(request, false);
}

function deleteHeaders(outcome: DeleteOutcome): Record<string, string> {
  return {
    ...(outcome.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}),
    ...(outcome.versionId !== undefined ? { 'x-amz-version-id': outcome.versionId } : {}),
  };
}

export async function deleteObject(request: S3Request): Promise<void> {
  const { req, store, bucket, key, query } = request;
  store.bucket(bucket);
  const versionId = versionIdParam(query);
  // If-Match (an ETag or *) is evaluated against the current version, inside the key lock.
  const ifMatch = header(req, 'if-match');
  const check = ifMatch === undefined || versionId !== undefined ? undefined : deleteConditions(ifMatch, key);
  const outcome = await store.deleteObject(bucket, key, versionId, check);
  sendEmpty(request.res, 204, deleteHeaders(outcome));
}

export async function deleteObjects(request: S3Request): Promise<void> {
  const { store, bucket } = request;
  store.bucket(bucket);
  const document = await readXmlBody(request);
  if (document?.name !== 'Delete') throw S3Errors.malformedXml();
  const objects = childElements(document, 'Object');
  if (objects.length === 0 || objects.length > MAX_DELETE_OBJECTS) throw S3Errors.malformedXml();
  const quiet = childText(document, 'Quiet')?.trim() === 'true';

  const results: string[] = [];
  for (const object of objects) {
    const key = childText(object, 'Key');
    if (key === undefined) throw S3Errors.malformedXml();
    const rawVersionId = childText(object, 'VersionId')?.trim();
    try {
      const versionId = rawVersionId === undefined ? undefined : validVersionId(rawVersionId);
      const outcome = await store.deleteObject(bucket, key, versionId);
      if (quiet) continue;
      const markerVersion = outcome.deleteMarker ? outcome.versionId : undefined;
      results.push(
        element(
          'Deleted',
          textElement('Key', key),
          textElement('VersionId', versionId),
          textElement('DeleteMarker', outcome.deleteMarker ? true : undefined),
          textElement('DeleteMarkerVersionId', markerVersion),
        ),
      );
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      results.push(
        element(
          'Error',
          textElement('Key', key),
          textElement('VersionId', rawVersionId),
          textElement('Code', error.code),
          textElement('Message', error.message),
        ),
      );
    }
  }
  sendXml(request.res, 200, xmlDocument('DeleteResult', ...results));
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, the bucket/key part URL-encoded. */
function parseCopySource(value: string): { bucket: string; key: string; versionId?: string } {
  const bad = () => S3Errors.invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', value);
  const [pathPart, queryPart] = value.split('?', 2);
  let path: string;
  try {
    path = decodeURIComponent(pathPart.replace(/^\//, ''));
  } catch {
    throw bad();
  }
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw bad();
  const versionId = queryPart === undefined ? undefined : (new URLSearchParams(queryPart).get('versionId') ?? undefined);
  return {
    bucket: path.slice(0, slash),
    key: path.slice(slash + 1),
    ...(versionId === undefined ? {} : { versionId: validVersionId(versionId) }),
  };
}

export async function copyObject(request: S3Request): Promise<void> {
  const { req, res, store, bucket, key } = request;
  store.bucket(bucket);
  assertKeyLength(key);
  const source = parseCopySource(header(req, 'x-amz-copy-source') ?? '');
  store.bucket(source.bucket);
  // If-Match / If-None-Match: * on the destination, as for PutObject; checked again, atomically, at commit.
  const check = writeConditions(req, key);
  check(currentObject(store.keyRecord(bucket, key)));
  const replaceMetadata = (header(req, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase() === 'REPLACE';
  if (!replaceMetadata && source.bucket === bucket && source.key === key && source.versionId === undefined) {
    throw S3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }

  const { version: sourceVersion, tempFile } = await store.withKey(source.bucket, source.key, async () => {
    let found: ObjectVersion;
    try {
      found = resolveVersion(store, source.bucket, source.key, source.versionId);
    } catch (error) {
      if (error instanceof S3Error && error.code === 'MethodNotAllowed') {
        throw S3Errors.invalidRequest('The source of a copy request may not specifically refer to a delete marker by version id.');
      }
      throw error;
    }
    checkCopySourceConditions(req, found);
    return { version: found, tempFile: await store.cloneBlob(source.bucket, found.blobId!) };
  });

  try {
    const version = await store.putObject(
      bucket,
      key,
      {
        tempFile,
        etag: sourceVersion.etag,
        size: sourceVersion.size,
        headers: replaceMetadata ? representationHeaders(req) : sourceVersion.headers,
        metadata: replaceMetadata ? userMetadata(req) : sourceVersion.metadata,
        ...(sourceVersion.crc32 === undefined ? {} : { crc32: sourceVersion.crc32 }),
        ...(sourceVersion.partSizes === undefined ? {} : { partSizes: sourceVersion.partSizes }),
      },
      check,
    );
    const sourceVersionHeader = versionIdHeader(sourceVersion.versionId)['x-amz-version-id'];
    sendXml(
      res,
      200,
      xmlDocument(
        'CopyObjectResult',
        textElement('ETag', version.etag),
        textElement('LastModified', version.lastModified),
        textElement('ChecksumCRC32', version.crc32),
      ),
      {
        ...versionIdHeader(version.versionId),
        ...(sourceVersionHeader === undefined ? {} : { 'x-amz-copy-source-version-id': sourceVersionHeader }),
      },
    );
  } catch (error) {
    await rm(tempFile, { force: true });
    throw error;
  }
}
