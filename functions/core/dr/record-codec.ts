import { canonicalJson } from '../canonical-json.ts';

/**
 * DynamoDB items travel as DynamoDB JSON (the AttributeValue form, as DynamoDB's own exports write it),
 * binary as base64, so numbers, sets and binaries come back exactly. A snapshot line is the canonical
 * JSON of one record, so the same record always has the same bytes and the same hash.
 */
export type AttributeValue = Record<string, unknown>;
export type DynamoItem = Record<string, AttributeValue>;

export function itemToJson(item: DynamoItem): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, valueToJson(value)]));
}

export function itemFromJson(json: Record<string, unknown>): DynamoItem {
  return Object.fromEntries(Object.entries(json).map(([name, value]) => [name, valueFromJson(value as AttributeValue)]));
}

function valueToJson(value: AttributeValue): AttributeValue {
  if ('B' in value) return { B: Buffer.from(value.B as Uint8Array).toString('base64') };
  if ('BS' in value) return { BS: (value.BS as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')) };
  if ('M' in value) return { M: itemToJson(value.M as DynamoItem) };
  if ('L' in value) return { L: (value.L as AttributeValue[]).map(valueToJson) };
  return value;
}

function valueFromJson(value: AttributeValue): AttributeValue {
  if ('B' in value) return { B: Buffer.from(value.B as string, 'base64') };
  if ('BS' in value) return { BS: (value.BS as string[]).map((b) => Buffer.from(b, 'base64')) };
  if ('M' in value) return { M: itemFromJson(value.M as Record<string, unknown>) };
  if ('L' in value) return { L: (value.L as AttributeValue[]).map(valueFromJson) };
  return value;
}

/** One line of a table part. */
export function tableRecordLine(item: DynamoItem): string {
  return canonicalJson({ item: itemToJson(item) });
}

/** The primary key of an item (its key attributes only), as DynamoDB JSON. */
export function itemKey(item: DynamoItem, keyAttributes: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keyAttributes.map((name) => [name, valueToJson(item[name])]));
}

export interface ObjectRecord {
  /** The key relative to the snapshotted prefix. */
  key: string;
  contentType?: string;
  metadata: Record<string, string>;
  /** The whole body, or (a chunk record) the bytes from `offset` on of an object of `size` bytes. */
  body: Buffer;
  /** Set on the chunk records of a large object: where this chunk starts. */
  offset?: number;
  /** Set on the chunk records of a large object: the whole object's size. */
  size?: number;
}

/**
 * One line of an objects part: the canonical JSON of the record, as its UTF-8 bytes. The body comes
 * first in key order (`body` < `contentType` < `key` < …) and base64 needs no escaping, so the line
 * is written around the encoded body instead of sorting and serializing a copy of it.
 */
export function objectRecordBytes(object: ObjectRecord, allocate: (bytes: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const rest = canonicalJson({ key: object.key, contentType: object.contentType, metadata: object.metadata, offset: object.offset, size: object.size });
  const tail = `",${rest.slice(1)}`;
  const encodedBytes = 4 * Math.ceil(object.body.length / 3);
  const line = allocate(BODY_HEAD.length + encodedBytes + Buffer.byteLength(tail));
  line.write(BODY_HEAD, 0, 'latin1');
  encodeBase64Into(object.body, line, BODY_HEAD.length);
  line.write(tail, BODY_HEAD.length + encodedBytes, 'utf8');
  return line;
}

const BODY_HEAD = '{"body":"';
const BASE64_ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
/** Two base64 characters per 12 bits (first one in the low byte). */
const BASE64_PAIRS = Uint16Array.from({ length: 4096 }, (_, bits) => BASE64_ALPHABET[bits >> 6] | (BASE64_ALPHABET[bits & 63] << 8));

/**
 * The base64 of `bytes` written straight into `into` at `at` (the same characters as `toString('base64')`).
 * Node has no buffer-to-buffer base64 encoder: a string of a 1 MiB chunk's base64 is an external string
 * freed only by a full collection, and 64 KiB slices fill the young generation instead; either way a
 * long snapshot's memory grew with its length. This loop allocates nothing (about 1 ms per MiB here).
 */
function encodeBase64Into(bytes: Buffer, into: Buffer, at: number): void {
  const whole = bytes.length - (bytes.length % 3);
  let out = at;
  for (let i = 0; i < whole; i += 3) {
    const bits = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    const high = BASE64_PAIRS[bits >>> 12];
    const low = BASE64_PAIRS[bits & 4095];
    into[out] = high & 255;
    into[out + 1] = high >>> 8;
    into[out + 2] = low & 255;
    into[out + 3] = low >>> 8;
    out += 4;
  }
  if (whole < bytes.length) into.write(bytes.toString('base64', whole), out, 'latin1');
}

/** One line of an objects part, as text (the same bytes as {@link objectRecordBytes}). */
export function objectRecordLine(object: ObjectRecord): string {
  return objectRecordBytes(object).toString('utf8');
}

export function parseObjectRecord(line: string): ObjectRecord {
  const json = JSON.parse(line) as { key: string; contentType?: string; metadata?: Record<string, string>; body: string; offset?: unknown; size?: unknown };
  const record: ObjectRecord = { key: json.key, contentType: json.contentType, metadata: json.metadata ?? {}, body: Buffer.from(json.body, 'base64') };
  if (json.offset !== undefined || json.size !== undefined) {
    record.offset = json.offset as number;
    record.size = json.size as number;
  }
  return record;
}

export function parseTableRecord(line: string): DynamoItem {
  return itemFromJson((JSON.parse(line) as { item: Record<string, unknown> }).item);
}

/** A key given as plain values (`{id: "a", n: 1}`) in DynamoDB JSON. */
export function keyFromPlain(key: Record<string, string | number>): DynamoItem {
  return Object.fromEntries(Object.entries(key).map(([name, value]) => [name, typeof value === 'number' ? { N: String(value) } : { S: value }]));
}

/** An item as plain values (numbers as numbers, sets as sorted arrays, binaries as base64), for comparing with what a user declared. */
export function itemToPlain(item: DynamoItem): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, valueToPlain(value)]));
}

function valueToPlain(value: AttributeValue): unknown {
  if ('S' in value) return value.S;
  if ('N' in value) return Number(value.N);
  if ('BOOL' in value) return value.BOOL;
  if ('NULL' in value) return null;
  if ('B' in value) return Buffer.from(value.B as Uint8Array).toString('base64');
  if ('SS' in value) return [...(value.SS as string[])].sort();
  if ('NS' in value) return (value.NS as string[]).map(Number).sort((a, b) => a - b);
  if ('BS' in value) return (value.BS as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')).sort();
  if ('M' in value) return itemToPlain(value.M as DynamoItem);
  if ('L' in value) return (value.L as AttributeValue[]).map(valueToPlain);
  return undefined;
}
