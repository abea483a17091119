/** An S3 protocol error: rendered as `<Error><Code>…</Code><Message>…</Message>…</Error>` with its status. */
export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra child elements of `<Error>` (Key, BucketName, VersionId, …). */
  readonly details: Record<string, string>;
  /** Extra response headers (x-amz-delete-marker, x-amz-version-id, …). */
  readonly headers: Record<string, string>;

  constructor(code: string, status: number, message: string, details: Record<string, string> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'S3Error';
    this.code = code;
    this.status = status;
    this.details = details;
    this.headers = headers;
  }
}

/** The errors the emulator raises, with S3's codes, statuses and messages. */
export const S3Errors = {
  noSuchBucket: (bucket: string) => new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string, headers: Record<string, string> = {}) => new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }, headers),
  noSuchVersion: (key: string, versionId: string) =>
    new S3Error('NoSuchVersion', 404, 'The specified version does not exist.', { Key: key, VersionId: versionId }),
  noSuchUpload: (uploadId: string) =>
    new S3Error('NoSuchUpload', 404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', {
      UploadId: uploadId,
    }),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new S3Error('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: bucket }),
  bucketNotEmpty: (bucket: string) => new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', { BucketName: bucket }),
  invalidBucketName: (bucket: string) => new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: bucket }),
  keyTooLong: () => new S3Error('KeyTooLongError', 400, 'Your key is too long'),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error('InvalidArgument', 400, message, name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' }),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', 400, message),
  invalidUri: () => new S3Error('InvalidURI', 400, "Couldn't parse the specified URI."),
  malformedXml: () => new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema'),
  illegalVersioningConfiguration: () => new S3Error('IllegalVersioningConfigurationException', 400, 'The Versioning element must be specified'),
  invalidPart: (partNumber: number) =>
    new S3Error(
      'InvalidPart',
      400,
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      { PartNumber: String(partNumber) },
    ),
  invalidPartOrder: () => new S3Error('InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'),
  entityTooSmall: () => new S3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.'),
  badDigest: (what: string) => new S3Error('BadDigest', 400, `The ${what} you specified did not match the calculated checksum.`),
  invalidDigest: () => new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified is not valid.'),
  incompleteBody: () => new S3Error('IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'),
  invalidChunkedEncoding: (reason: string) => new S3Error('InvalidRequest', 400, `Invalid aws-chunked request body: ${reason}`),
  entityTooLarge: () => new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size'),
  preconditionFailed: (condition: string) =>
    new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', {
      Condition: condition,
    }),
  invalidRange: (size: number) =>
    new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', { ActualObjectSize: String(size) }, { 'content-range': `bytes */${size}` }),
  invalidPartNumber: () => new S3Error('InvalidPartNumber', 416, 'The requested partnumber is not satisfiable'),
  methodNotAllowedOnDeleteMarker: (versionId: string, lastModified: string) =>
    new S3Error(
      'MethodNotAllowed',
      405,
      'The specified method is not allowed against this resource.',
      { Method: 'GET', ResourceType: 'DeleteMarker' },
      {
        'x-amz-delete-marker': 'true',
        'x-amz-version-id': versionId,
        'last-modified': new Date(lastModified).toUTCString(),
        allow: 'DELETE',
      },
    ),
  notImplemented: (operation: string) =>
    new S3Error('NotImplemented', 501, `${operation} is not implemented by the Maestro local S3 emulator.`, { Operation: operation }),
  internal: () => new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
} as const;
