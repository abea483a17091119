export const Versioning = {
  unversioned: 'Unversioned',
  enabled: 'Enabled',
  suspended: 'Suspended',
} as const;
export type VersioningState = (typeof Versioning)[keyof typeof Versioning];

/** S3's version id for objects written while versioning was never enabled or is suspended. */
export const NULL_VERSION_ID = 'null';

export interface BucketInfo {
  name: string;
  creationDate: string;
  versioning: VersioningState;
}

/** One entry in a key's version stack: an object version or a delete marker. */
export interface ObjectVersion {
  versionId: string;
  isDeleteMarker: boolean;
  /** ISO 8601 with milliseconds. */
  lastModified: string;
  /** Quoted, as sent in the ETag header; empty for delete markers. */
  etag: string;
  size: number;
  /** File name of the body under the bucket's blobs directory; absent for delete markers. */
  blobId?: string;
  /** Stored representation headers (content-type, content-encoding, cache-control, …), lower-case names. */
  headers: Record<string, string>;
  /** User metadata, names without the `x-amz-meta-` prefix. */
  metadata: Record<string, string>;
  /** Base64 CRC32 of the whole body, for single-part objects. */
  crc32?: string;
  /** Sizes of the parts a multipart upload was assembled from, for GET/HEAD with `partNumber`. */
  partSizes?: number[];
}

/** A key and its versions, newest first. */
export interface KeyRecord {
  key: string;
  versions: ObjectVersion[];
}

export interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: string;
}

export interface UploadRecord {
  uploadId: string;
  key: string;
  initiated: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  /** Sorted by part number. */
  parts: PartRecord[];
}

/** The attributes of a body already written to a temp file, ready to become a version. */
export interface NewObject {
  tempFile: string;
  etag: string;
  size: number;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  crc32?: string;
  partSizes?: number[];
}

export interface DeleteOutcome {
  /** The version removed or the delete marker created; absent for an unversioned delete. */
  versionId?: string;
  /** True when a delete marker was created or the removed version was one. */
  deleteMarker: boolean;
}

/** The latest version when it is a real object (not a delete marker). */
export function currentObject(record: KeyRecord | undefined): ObjectVersion | undefined {
  const latest = record?.versions[0];
  return latest && !latest.isDeleteMarker ? latest : undefined;
}
