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

/** A condition on the current object of the key a write or delete goes to (S3 conditional requests). */
export interface ObjectCondition {
  /** Only if the current object has this ETag. */
  ifMatch?: string;
  /** Only if there is no current object (none, or a delete marker on top). */
  ifNoneMatch?: '*';
}

export interface CopyObjectRequest extends ObjectCondition {
  /** The source; `versionId` pins one version, `ifMatch` its ETag (StalePlan when it no longer matches). */
  source: { bucket: string; key: string; versionId?: string; ifMatch?: string };
  bucket: string;
  key: string;
  /** Given: the copy gets this content type and user metadata (REPLACE); omitted: the source's (COPY). */
  replace?: { contentType?: string; metadata: Record<string, string> };
}

/** One entry of a key's history: an object version or a delete marker. */
export interface HistoryEntry {
  versionId: string;
  deleteMarker: boolean;
}

export interface ObjectStore {
  /** The current object, or with `versionId` that version (undefined for a delete marker or none). */
  head(bucket: string, key: string, versionId?: string): Promise<ObjectHead | undefined>;
  get(bucket: string, key: string, versionId?: string): Promise<StoredObject | undefined>;
  /** Refuses with StalePlan when a condition does not hold. */
  put(request: PutObjectRequest): Promise<{ etag: string; versionId?: string }>;
  /** Makes an earlier version the current one again, by copying it (history is kept); a condition that fails is StalePlan. */
  restoreVersion(bucket: string, key: string, versionId: string, condition?: ObjectCondition): Promise<{ versionId?: string }>;
  /**
   * Deletes the current object; on a versioned bucket this adds a delete marker, whose version id it
   * returns. With `ifMatch`, only if the current object has that ETag (else StalePlan).
   */
  delete(bucket: string, key: string, condition?: Pick<ObjectCondition, 'ifMatch'>): Promise<{ versionId?: string }>;
  /** Server-side copy; a source or destination condition that fails is StalePlan. */
  copy(request: CopyObjectRequest): Promise<{ etag: string; versionId?: string }>;
  /** The newest `limit` (at most 2) entries of the key's history, newest first: the current state and what lies under it. */
  history(bucket: string, key: string, limit: 1 | 2): Promise<HistoryEntry[]>;
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
  /** Updates named top-level attributes of the item, only if the stored one still equals `expected`; else StalePlan. */
  update(table: string, key: Item, update: ItemUpdate, expected: Item): Promise<void>;
}

/** An UpdateItem on top-level attributes: SET each of `set`, REMOVE each of `remove`, ADD each number of `add`. */
export interface ItemUpdate {
  set?: Item;
  remove?: readonly string[];
  add?: Record<string, number>;
}

/** Refuses a write while the resource is held still (a DR backup's quiesce): TargetQuiesced. */
export interface WriteGuard {
  assertWritable(resource: { kind: 'table'; table: string } | { kind: 'object'; bucket: string; key: string }): Promise<void>;
}
