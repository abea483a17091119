// DER encoding of an ECDSA signature: SEQUENCE { INTEGER r, INTEGER s }, the
// form KMS returns. Decoding is strict so malformed input never verifies.

export interface EcdsaSignatureValues {
  r: bigint;
  s: bigint;
}

const SEQUENCE_TAG = 0x30;
const INTEGER_TAG = 0x02;

export function encodeDerSignature({ r, s }: EcdsaSignatureValues): Buffer {
  const body = Buffer.concat([encodeInteger(r), encodeInteger(s)]);
  return Buffer.concat([Buffer.from([SEQUENCE_TAG]), encodeLength(body.length), body]);
}

/** Returns undefined for anything that is not a canonical DER signature. */
export function decodeDerSignature(der: Uint8Array): EcdsaSignatureValues | undefined {
  const bytes = Buffer.from(der);
  if (bytes[0] !== SEQUENCE_TAG) return undefined;
  const sequence = readLength(bytes, 1);
  if (!sequence || sequence.offset + sequence.length !== bytes.length) return undefined;
  const r = readInteger(bytes, sequence.offset);
  if (!r) return undefined;
  const s = readInteger(bytes, r.next);
  if (!s || s.next !== bytes.length) return undefined;
  return { r: r.value, s: s.value };
}

function encodeInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let content = Buffer.from(hex, 'hex');
  // A set high bit would read as negative, so positive integers get a 0x00 pad.
  if (content[0] & 0x80) content = Buffer.concat([Buffer.from([0]), content]);
  return Buffer.concat([Buffer.from([INTEGER_TAG]), encodeLength(content.length), content]);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length <= 0xff) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}

function readLength(bytes: Buffer, at: number): { length: number; offset: number } | undefined {
  const first = bytes[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, offset: at + 1 };
  if (first === 0x81) {
    const length = bytes[at + 1];
    // Long form is only canonical for lengths that do not fit the short form.
    if (length === undefined || length < 0x80) return undefined;
    return { length, offset: at + 2 };
  }
  return undefined;
}

function readInteger(bytes: Buffer, at: number): { value: bigint; next: number } | undefined {
  if (bytes[at] !== INTEGER_TAG) return undefined;
  const header = readLength(bytes, at + 1);
  if (!header || header.length === 0) return undefined;
  const end = header.offset + header.length;
  if (end > bytes.length) return undefined;
  const content = bytes.subarray(header.offset, end);
  if (content[0] & 0x80) return undefined; // negative
  if (content.length > 1 && content[0] === 0 && !(content[1] & 0x80)) return undefined; // non-minimal
  return { value: BigInt(`0x${content.toString('hex')}`), next: end };
}
