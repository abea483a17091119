// Limit/Marker paging as KMS list operations do it; the marker is an opaque offset.

import { validationError } from './kms-errors.ts';

export const DEFAULT_PAGE_LIMIT = 100;

export interface Page<Item> {
  items: Item[];
  truncated: boolean;
  nextMarker?: string;
}

export function paginate<Item>(all: readonly Item[], limit: number | undefined, marker: string | undefined): Page<Item> {
  const start = marker === undefined ? 0 : decodeMarker(marker);
  const end = start + (limit ?? DEFAULT_PAGE_LIMIT);
  const items = all.slice(start, end);
  const truncated = end < all.length;
  return truncated ? { items, truncated, nextMarker: encodeMarker(end) } : { items, truncated };
}

function encodeMarker(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

function decodeMarker(marker: string): number {
  const match = /^offset:(\d{1,9})$/.exec(Buffer.from(marker, 'base64url').toString('utf8'));
  if (!match) throw validationError('Invalid marker');
  return Number(match[1]);
}
