/** Query parameters that qualify an operation rather than name a sub-resource. */
const PARAMETERS = new Set([
  'x-id',
  'versionId',
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'list-type',
  'key-marker',
  'version-id-marker',
  'upload-id-marker',
  'max-uploads',
  'max-parts',
  'part-number-marker',
  'partNumber',
  'uploadId',
  'max-buckets',
  'bucket-region',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
]);

const VERBS: Record<string, string> = { GET: 'Get', PUT: 'Put', POST: 'Post', DELETE: 'Delete', HEAD: 'Head' };

function verb(method: string): string {
  return Object.hasOwn(VERBS, method) ? VERBS[method] : method;
}

function pascalCase(name: string): string {
  return name
    .split(/[-_]/)
    .filter((part) => part !== '')
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/**
 * Names the S3 operation a request asks for (path-style addressing), e.g. "PutObject" or
 * "GetObjectTagging". Names come from the method, the scope (service, bucket, object) and the
 * sub-resource, so an operation we do not serve still gets a meaningful name in its 501.
 */
export function operationName(method: string, bucket: string, key: string, query: URLSearchParams, hasCopySource: boolean): string {
  const subresource = [...query.keys()].find((name) => !PARAMETERS.has(name));
  const uploadId = query.has('uploadId');

  if (bucket === '') {
    if (method === 'GET' && subresource === undefined) return 'ListBuckets';
    return `${verb(method)}Service${pascalCase(subresource ?? '')}`;
  }

  if (key === '') {
    switch (`${method} ${subresource ?? ''}`) {
      case 'PUT ':
        return 'CreateBucket';
      case 'HEAD ':
        return 'HeadBucket';
      case 'DELETE ':
        return 'DeleteBucket';
      case 'GET ':
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'GET versions':
        return 'ListObjectVersions';
      case 'GET uploads':
        return 'ListMultipartUploads';
      case 'POST delete':
        return 'DeleteObjects';
    }
    return `${verb(method)}Bucket${pascalCase(subresource ?? '')}`;
  }

  switch (`${method} ${subresource ?? ''}`) {
    case 'PUT ':
      if (uploadId) return hasCopySource ? 'UploadPartCopy' : 'UploadPart';
      return hasCopySource ? 'CopyObject' : 'PutObject';
    case 'GET ':
      return uploadId ? 'ListParts' : 'GetObject';
    case 'HEAD ':
      return 'HeadObject';
    case 'DELETE ':
      return uploadId ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'POST uploads':
      return 'CreateMultipartUpload';
    case 'POST ':
      if (uploadId) return 'CompleteMultipartUpload';
      break;
    case 'POST restore':
      return 'RestoreObject';
    case 'POST select':
      return 'SelectObjectContent';
  }
  return `${verb(method)}Object${pascalCase(subresource ?? '')}`;
}
