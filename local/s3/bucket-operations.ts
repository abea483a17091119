import { S3Errors } from './errors.ts';
import { ownerXml, sendEmpty, sendXml, type S3Request } from './http.ts';
import { receiveBodyToBuffer } from './request-body.ts';
import { Versioning } from './types.ts';
import { childText, element, parseXml, textElement, xmlDocument, type XmlElement } from './xml.ts';

const MAX_CONFIG_BYTES = 64 * 1024;
const REGION = 'us-east-1';

/** S3's bucket naming rules: 3–63 of [a-z0-9.-], starting and ending alphanumeric, no IP addresses. */
function assertValidBucketName(name: string): void {
  const valid = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
  if (!valid) throw S3Errors.invalidBucketName(name);
}

/** A small XML request document, or undefined for an empty body. */
export async function readXmlBody(request: S3Request): Promise<XmlElement | undefined> {
  const { body } = await receiveBodyToBuffer(request.req, MAX_CONFIG_BYTES);
  const text = body.toString('utf8');
  return text.trim() === '' ? undefined : parseXml(text);
}

export async function createBucket(request: S3Request): Promise<void> {
  assertValidBucketName(request.bucket);
  // The optional CreateBucketConfiguration (LocationConstraint) is accepted and ignored: one region here.
  const config = await readXmlBody(request);
  if (config && config.name !== 'CreateBucketConfiguration') throw S3Errors.malformedXml();
  await request.store.createBucket(request.bucket);
  sendEmpty(request.res, 200, { location: `/${request.bucket}` });
}

export async function headBucket(request: S3Request): Promise<void> {
  request.store.bucket(request.bucket);
  sendEmpty(request.res, 200, { 'x-amz-bucket-region': REGION });
}

export async function deleteBucket(request: S3Request): Promise<void> {
  await request.store.deleteBucket(request.bucket);
  sendEmpty(request.res, 204);
}

export async function getBucketLocation(request: S3Request): Promise<void> {
  request.store.bucket(request.bucket);
  // us-east-1 is reported as an empty LocationConstraint, as S3 does.
  sendXml(request.res, 200, xmlDocument('LocationConstraint'));
}

export async function listBuckets(request: S3Request): Promise<void> {
  const { query } = request;
  const prefix = query.get('prefix') ?? '';
  const maxBuckets = Math.min(Math.max(Number(query.get('max-buckets') ?? 10000) || 10000, 1), 10000);
  const after = query.get('continuation-token');
  const matching = request.store.listBuckets().filter((b) => b.name.startsWith(prefix) && (after === null || b.name > after));
  const page = matching.slice(0, maxBuckets);
  const truncated = matching.length > page.length;
  const buckets = page.map((b) =>
    element('Bucket', textElement('Name', b.name), textElement('CreationDate', b.creationDate), textElement('BucketRegion', REGION)),
  );
  sendXml(
    request.res,
    200,
    xmlDocument(
      'ListAllMyBucketsResult',
      ownerXml(),
      element('Buckets', ...buckets),
      textElement('Prefix', query.has('prefix') ? prefix : undefined),
      textElement('ContinuationToken', truncated ? page.at(-1)?.name : undefined),
    ),
  );
}

export async function getBucketVersioning(request: S3Request): Promise<void> {
  const { versioning } = request.store.bucket(request.bucket);
  // A bucket that never had versioning configured answers with an empty configuration.
  const status = versioning === Versioning.unversioned ? undefined : versioning;
  sendXml(request.res, 200, xmlDocument('VersioningConfiguration', textElement('Status', status)));
}

export async function putBucketVersioning(request: S3Request): Promise<void> {
  request.store.bucket(request.bucket);
  const config = await readXmlBody(request);
  if (config?.name !== 'VersioningConfiguration') throw S3Errors.malformedXml();
  const status = childText(config, 'Status')?.trim();
  if (status === undefined) throw S3Errors.illegalVersioningConfiguration();
  if (status !== Versioning.enabled && status !== Versioning.suspended) throw S3Errors.malformedXml();
  await request.store.setVersioning(request.bucket, status);
  sendEmpty(request.res, 200);
}
