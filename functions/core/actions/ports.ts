/** What actions may touch, as interfaces; adapters implement them on S3 and DynamoDB. */

export interface StoredObject {
  body: Buffer;
  etag: string;
  versionId?: string;
  contentType?: string;
  metadata: Record<string, string>;
}

export interface ObjectHead {
  etag: string;
  versionId?: string;
  size: number;
  contentType?: string;
  metadata: Record<string, string>;
}

export interface PutObjectRequest {
  bucket: string;
  key: string;
  body: Buffer;
  contentType?: string;
  metadata?: Record<string, string>;
  /** Write only if the current object has this ETag (S3 conditional write). */
  ifMatch?: string;
  /** Write only if no object exists under the key. */
  ifNoneMatch?: '*';
}

export interface ObjectStore {
  head(bucket: string, key: string): Promise<ObjectHead | undefined>;
  get(bucket: string, key: string, versionId?: string): Promise<StoredObject | undefined>;
  /** Refuses with StalePlan when a condition does not hold. */
  put(request: PutObjectRequest): Promise<{ etag: string; versionId?: string }>;
  /** Makes an earlier version the current one again, by copying it (history is kept). */
  restoreVersion(bucket: string, key: string, versionId: string): Promise<{ versionId?: string }>;
  /** Deletes the current object; on a versioned bucket this adds a delete marker. */
  delete(bucket: string, key: string): Promise<{ versionId?: string }>;
}

export type Item = Record<string, unknown>;

export interface ItemStore {
  /** The item's primary key, from the table's key schema. */
  keyOf(table: string, item: Item): Promise<Item>;
  get(table: string, key: Item): Promise<Item | undefined>;
  /** Writes the item only if the stored one still equals `expected` (undefined: none stored); else StalePlan. */
  put(table: string, item: Item, expected: Item | undefined): Promise<void>;
  /** Deletes the item only if the stored one still equals `expected`; else StalePlan. */
  delete(table: string, key: Item, expected: Item): Promise<void>;
}

/** Refuses a write while the resource is held still (a DR backup's quiesce): TargetQuiesced. */
export interface WriteGuard {
  assertWritable(resource: { kind: 'table'; table: string } | { kind: 'object'; bucket: string; key: string }): Promise<void>;
}
