import { compareUtf8, lowerBound } from './key-order.ts';
import { currentObject, type KeyRecord, type ObjectVersion } from './types.ts';

export interface KeyIndex {
  keys: readonly string[];
  records: ReadonlyMap<string, KeyRecord>;
}

/** The common prefix `key` rolls up into under `delimiter`, if any (S3's CommonPrefixes). */
function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at === -1 ? undefined : key.slice(0, at + delimiter.length);
}

/** First index worth scanning: at the prefix, and past `after` when given. */
function startIndex(keys: readonly string[], prefix: string, after: string | undefined, inclusive: boolean): number {
  const atPrefix = lowerBound(keys, prefix, true);
  return after === undefined ? atPrefix : Math.max(atPrefix, lowerBound(keys, after, inclusive));
}

export interface ObjectListing {
  contents: { key: string; version: ObjectVersion }[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last entry returned (a key or a common prefix); resume after it. */
  nextMarker?: string;
}

/**
 * Current objects (latest version not a delete marker), as ListObjects/ListObjectsV2 return them.
 * `startAfter` skips keys up to and including it; `marker` is a previous page's `nextMarker`, which may be
 * a common prefix, in which case every key rolled into it is skipped too.
 */
export function listCurrentObjects(
  index: KeyIndex,
  options: { prefix: string; delimiter?: string; maxKeys: number; startAfter?: string; marker?: string },
): ObjectListing {
  const { prefix, delimiter, maxKeys, startAfter, marker } = options;
  const listing: ObjectListing = { contents: [], commonPrefixes: [], isTruncated: false };
  if (maxKeys <= 0) return listing;

  const after = [startAfter, marker]
    .filter((m) => m !== undefined)
    .sort(compareUtf8)
    .at(-1);
  let last: string | undefined;
  let count = 0;
  for (let i = startIndex(index.keys, prefix, after, false); i < index.keys.length; i++) {
    const key = index.keys[i];
    if (!key.startsWith(prefix)) break;
    const version = currentObject(index.records.get(key));
    if (!version) continue;
    const commonPrefix = commonPrefixOf(key, prefix, delimiter);
    if (commonPrefix !== undefined) {
      if (commonPrefix === last) continue;
      if (marker !== undefined && compareUtf8(commonPrefix, marker) <= 0) continue;
    }
    if (count === maxKeys) {
      listing.isTruncated = true;
      listing.nextMarker = last;
      break;
    }
    count++;
    if (commonPrefix !== undefined) {
      listing.commonPrefixes.push(commonPrefix);
      last = commonPrefix;
    } else {
      listing.contents.push({ key, version });
      last = key;
    }
  }
  return listing;
}

export interface VersionListing {
  versions: { key: string; version: ObjectVersion; isLatest: boolean }[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

/**
 * Every version and delete marker, keys in order and each key's versions newest first, as
 * ListObjectVersions returns them. Paging follows S3: `keyMarker` alone resumes after that key (or common
 * prefix); with `versionIdMarker` it resumes after that version of that key.
 */
export function listVersions(
  index: KeyIndex,
  options: { prefix: string; delimiter?: string; maxKeys: number; keyMarker?: string; versionIdMarker?: string },
): VersionListing {
  const { prefix, delimiter, maxKeys, keyMarker, versionIdMarker } = options;
  const listing: VersionListing = { versions: [], commonPrefixes: [], isTruncated: false };
  if (maxKeys <= 0) return listing;

  const resumeInsideKey = keyMarker !== undefined && versionIdMarker !== undefined;
  let lastPrefix: string | undefined;
  let count = 0;
  const full = (): boolean => {
    if (count < maxKeys) return false;
    listing.isTruncated = true;
    return true;
  };

  for (let i = startIndex(index.keys, prefix, keyMarker, resumeInsideKey); i < index.keys.length; i++) {
    const key = index.keys[i];
    if (!key.startsWith(prefix)) break;
    const record = index.records.get(key);
    if (!record || record.versions.length === 0) continue;

    const commonPrefix = commonPrefixOf(key, prefix, delimiter);
    if (commonPrefix !== undefined) {
      if (commonPrefix === lastPrefix) continue;
      if (keyMarker !== undefined && compareUtf8(commonPrefix, keyMarker) <= 0) continue;
      if (full()) break;
      count++;
      listing.commonPrefixes.push(commonPrefix);
      lastPrefix = commonPrefix;
      listing.nextKeyMarker = commonPrefix;
      listing.nextVersionIdMarker = undefined;
      continue;
    }

    let from = 0;
    if (resumeInsideKey && key === keyMarker) {
      // A marker version that has since been deleted: start the key over rather than lose versions.
      from = record.versions.findIndex((v) => v.versionId === versionIdMarker) + 1;
    }
    for (let v = from; v < record.versions.length; v++) {
      if (full()) break;
      count++;
      listing.versions.push({ key, version: record.versions[v], isLatest: v === 0 });
      listing.nextKeyMarker = key;
      listing.nextVersionIdMarker = record.versions[v].versionId;
    }
    if (listing.isTruncated) break;
  }
  if (!listing.isTruncated) {
    listing.nextKeyMarker = undefined;
    listing.nextVersionIdMarker = undefined;
  }
  return listing;
}
