import { rm } from 'node:fs/promises';
import { readXmlBody } from './bucket-operations.ts';
import { writeConditions } from './conditions.ts';
import { S3Errors } from './errors.ts';
import { ownerXml, sendEmpty, sendXml, type S3Request } from './http.ts';
import { assertKeyLength, representationHeaders, userMetadata, versionIdHeader } from './object-headers.ts';
import { receiveBodyToFile } from './request-body.ts';
import { childElements, childText, element, textElement, xmlDocument } from './xml.ts';

const MAX_PART_NUMBER = 10000;
const MAX_PARTS_LISTED = 1000;

function uploadIdParam(query: URLSearchParams): string {
  const uploadId = query.get('uploadId');
  // Upload ids name directories, so anything but our own format is refused before it reaches a path.
  if (uploadId === null || !/^[A-Za-z0-9_-]{1,64}$/.test(uploadId)) throw S3Errors.noSuchUpload(uploadId ?? '');
  return uploadId;
}

function partNumberParam(raw: string | null): number {
  const partNumber = Number(raw);
  if (raw === null || !/^\d+$/.test(raw) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw S3Errors.invalidArgument(`Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, 'partNumber', raw ?? '');
  }
  return partNumber;
}

export async function createMultipartUpload(request: S3Request): Promise<void> {
  const { req, store, bucket, key } = request;
  store.bucket(bucket);
  assertKeyLength(key);
  const upload = await store.createUpload(bucket, key, representationHeaders(req), userMetadata(req));
  sendXml(
    request.res,
    200,
    xmlDocument('InitiateMultipartUploadResult', textElement('Bucket', bucket), textElement('Key', key), textElement('UploadId', upload.uploadId)),
  );
}

export async function uploadPart(request: S3Request): Promise<void> {
  const { req, store, bucket, key, query } = request;
  store.bucket(bucket);
  const uploadId = uploadIdParam(query);
  const partNumber = partNumberParam(query.get('partNumber'));
  store.upload(bucket, uploadId, key);

  const tempFile = store.newTempPath();
  const body = await receiveBodyToFile(req, tempFile);
  try {
    const etag = `"${body.md5Hex}"`;
    await store.putPart(bucket, uploadId, key, tempFile, {
      partNumber,
      etag,
      size: body.size,
      lastModified: new Date().toISOString(),
    });
    sendEmpty(request.res, 200, { etag, 'x-amz-checksum-crc32': body.crc32 });
  } catch (error) {
    await rm(tempFile, { force: true });
    throw error;
  }
}

export async function completeMultipartUpload(request: S3Request): Promise<void> {
  const { req, store, bucket, key, query } = request;
  store.bucket(bucket);
  const uploadId = uploadIdParam(query);
  store.upload(bucket, uploadId, key);
  const check = writeConditions(req, key);
  const document = await readXmlBody(request);
  if (document?.name !== 'CompleteMultipartUpload') throw S3Errors.malformedXml();
  const chosen = childElements(document, 'Part').map((part) => {
    const partNumber = childText(part, 'PartNumber')?.trim();
    const etag = childText(part, 'ETag')?.trim();
    if (partNumber === undefined || etag === undefined) throw S3Errors.malformedXml();
    return { partNumber: partNumberParam(partNumber), etag };
  });

  const version = await store.completeUpload(bucket, uploadId, key, chosen, check);
  sendXml(
    request.res,
    200,
    xmlDocument(
      'CompleteMultipartUploadResult',
      textElement('Location', `/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`),
      textElement('Bucket', bucket),
      textElement('Key', key),
      textElement('ETag', version.etag),
    ),
    versionIdHeader(version.versionId),
  );
}

export async function abortMultipartUpload(request: S3Request): Promise<void> {
  const { store, bucket, key, query } = request;
  store.bucket(bucket);
  await store.abortUpload(bucket, uploadIdParam(query), key);
  sendEmpty(request.res, 204);
}

export async function listParts(request: S3Request): Promise<void> {
  const { store, bucket, key, query } = request;
  store.bucket(bucket);
  const uploadId = uploadIdParam(query);
  const upload = store.upload(bucket, uploadId, key);
  const marker = Number(query.get('part-number-marker') ?? 0) || 0;
  const maxParts = Math.min(Number(query.get('max-parts') ?? MAX_PARTS_LISTED) || MAX_PARTS_LISTED, MAX_PARTS_LISTED);
  const remaining = upload.parts.filter((p) => p.partNumber > marker);
  const page = remaining.slice(0, maxParts);
  const truncated = remaining.length > page.length;
  sendXml(
    request.res,
    200,
    xmlDocument(
      'ListPartsResult',
      textElement('Bucket', bucket),
      textElement('Key', key),
      textElement('UploadId', uploadId),
      textElement('PartNumberMarker', marker),
      textElement('NextPartNumberMarker', page.at(-1)?.partNumber ?? marker),
      textElement('MaxParts', maxParts),
      textElement('IsTruncated', truncated),
      ownerXml('Initiator'),
      ownerXml(),
      textElement('StorageClass', 'STANDARD'),
      ...page.map((p) =>
        element(
          'Part',
          textElement('PartNumber', p.partNumber),
          textElement('LastModified', p.lastModified),
          textElement('ETag', p.etag),
          textElement('Size', p.size),
        ),
      ),
    ),
  );
}
