import { S3Errors } from './errors.ts';
import { ownerXml, sendXml, type S3Request } from './http.ts';
import { listCurrentObjects, listVersions, type ObjectListing } from './listing.ts';
import type { ObjectVersion } from './types.ts';
import { element, textElement, xmlDocument } from './xml.ts';

const MAX_KEYS = 1000;

function maxKeysParam(query: URLSearchParams): number {
  const raw = query.get('max-keys');
  if (raw === null) return MAX_KEYS;
  if (!/^\d+$/.test(raw)) throw S3Errors.invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', raw);
  return Math.min(Number(raw), MAX_KEYS);
}

/** With `encoding-type=url` S3 URL-encodes names in the response (keys may hold characters XML cannot). */
function nameEncoder(query: URLSearchParams): (name: string | undefined) => string | undefined {
  const encodingType = query.get('encoding-type');
  if (encodingType === null) return (name) => name;
  if (encodingType !== 'url') throw S3Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  return (name) => (name === undefined ? undefined : encodeURIComponent(name).replace(/%2F/g, '/'));
}

function optionalParam(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : value;
}

/** What every listing reads from a request: the bucket's key index and the common parameters. */
function listingParams({ store, bucket, query }: S3Request) {
  return {
    index: store.sortedKeys(bucket),
    encode: nameEncoder(query),
    prefix: query.get('prefix') ?? '',
    delimiter: optionalParam(query, 'delimiter'),
    maxKeys: maxKeysParam(query),
  };
}

function contentsXml(key: string, version: ObjectVersion, withOwner: boolean): string {
  return element(
    'Contents',
    textElement('Key', key),
    textElement('LastModified', version.lastModified),
    textElement('ETag', version.etag),
    textElement('ChecksumAlgorithm', version.crc32 ? 'CRC32' : undefined),
    textElement('Size', version.size),
    withOwner ? ownerXml() : '',
    textElement('StorageClass', 'STANDARD'),
  );
}

function commonPrefixesXml(listing: ObjectListing | { commonPrefixes: string[] }, encode: (n: string) => string | undefined): string[] {
  return listing.commonPrefixes.map((p) => element('CommonPrefixes', textElement('Prefix', encode(p))));
}

export async function listObjectsV2(request: S3Request): Promise<void> {
  const { bucket, query } = request;
  const { index, encode, prefix, delimiter, maxKeys } = listingParams(request);
  const startAfter = optionalParam(query, 'start-after');
  const token = optionalParam(query, 'continuation-token');
  let marker: string | undefined;
  if (token !== undefined) {
    marker = Buffer.from(token, 'base64url').toString('utf8');
    if (Buffer.from(marker, 'utf8').toString('base64url') !== token) {
      throw S3Errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
    }
  }

  const listing = listCurrentObjects(index, { prefix, delimiter, maxKeys, startAfter, marker });
  const withOwner = query.get('fetch-owner') === 'true';
  const nextToken = listing.nextMarker === undefined ? undefined : Buffer.from(listing.nextMarker, 'utf8').toString('base64url');
  sendXml(
    request.res,
    200,
    xmlDocument(
      'ListBucketResult',
      textElement('Name', bucket),
      textElement('Prefix', encode(prefix)),
      textElement('Delimiter', encode(delimiter)),
      textElement('MaxKeys', maxKeys),
      textElement('EncodingType', query.get('encoding-type') ?? undefined),
      textElement('KeyCount', listing.contents.length + listing.commonPrefixes.length),
      textElement('IsTruncated', listing.isTruncated),
      textElement('ContinuationToken', token),
      textElement('NextContinuationToken', nextToken),
      textElement('StartAfter', encode(startAfter)),
      ...listing.contents.map(({ key, version }) => contentsXml(encode(key)!, version, withOwner)),
      ...commonPrefixesXml(listing, encode),
    ),
  );
}

export async function listObjects(request: S3Request): Promise<void> {
  const { bucket, query } = request;
  const { index, encode, prefix, delimiter, maxKeys } = listingParams(request);
  const marker = optionalParam(query, 'marker');

  const listing = listCurrentObjects(index, { prefix, delimiter, maxKeys, marker });
  sendXml(
    request.res,
    200,
    xmlDocument(
      'ListBucketResult',
      textElement('Name', bucket),
      textElement('Prefix', encode(prefix)),
      textElement('Marker', encode(marker ?? '')),
      textElement('NextMarker', encode(listing.nextMarker)),
      textElement('MaxKeys', maxKeys),
      textElement('Delimiter', encode(delimiter)),
      textElement('EncodingType', query.get('encoding-type') ?? undefined),
      textElement('IsTruncated', listing.isTruncated),
      ...listing.contents.map(({ key, version }) => contentsXml(encode(key)!, version, true)),
      ...commonPrefixesXml(listing, encode),
    ),
  );
}

export async function listObjectVersions(request: S3Request): Promise<void> {
  const { bucket, query } = request;
  const { index, encode, prefix, delimiter, maxKeys } = listingParams(request);
  const keyMarker = optionalParam(query, 'key-marker');
  const versionIdMarker = optionalParam(query, 'version-id-marker');
  if (versionIdMarker !== undefined && keyMarker === undefined) {
    throw S3Errors.invalidArgument('A version-id marker cannot be specified without a key marker.', 'version-id-marker', versionIdMarker);
  }

  const listing = listVersions(index, { prefix, delimiter, maxKeys, keyMarker, versionIdMarker });
  const entries = listing.versions.map(({ key, version, isLatest }) =>
    version.isDeleteMarker
      ? element(
          'DeleteMarker',
          textElement('Key', encode(key)),
          textElement('VersionId', version.versionId),
          textElement('IsLatest', isLatest),
          textElement('LastModified', version.lastModified),
          ownerXml(),
        )
      : element(
          'Version',
          textElement('Key', encode(key)),
          textElement('VersionId', version.versionId),
          textElement('IsLatest', isLatest),
          textElement('LastModified', version.lastModified),
          textElement('ETag', version.etag),
          textElement('ChecksumAlgorithm', version.crc32 ? 'CRC32' : undefined),
          textElement('Size', version.size),
          textElement('StorageClass', 'STANDARD'),
          ownerXml(),
        ),
  );
  sendXml(
    request.res,
    200,
    xmlDocument(
      'ListVersionsResult',
      textElement('Name', bucket),
      textElement('Prefix', encode(prefix)),
      textElement('KeyMarker', encode(keyMarker ?? '')),
      textElement('VersionIdMarker', versionIdMarker ?? ''),
      textElement('NextKeyMarker', encode(listing.nextKeyMarker)),
      textElement('NextVersionIdMarker', listing.nextVersionIdMarker),
      textElement('MaxKeys', maxKeys),
      textElement('Delimiter', encode(delimiter)),
      textElement('EncodingType', query.get('encoding-type') ?? undefined),
      textElement('IsTruncated', listing.isTruncated),
      ...entries,
      ...commonPrefixesXml(listing, encode),
    ),
  );
}
