// Smithy RPC v2 CBOR, the protocol CloudWatch lists first and the one current
// AWS CLIs choose: POST /service/<ServiceTarget>/operation/<Operation>, CBOR
// in and out, the smithy-protocol header on both, timestamps as tag 1.

import { cbor, dateToTag } from '@smithy/core/cbor';
import { CloudWatchError } from './cloudwatch-errors.ts';

export const SMITHY_PROTOCOL = 'rpc-v2-cbor';
export const CBOR_CONTENT_TYPE = 'application/cbor';

const PATH_PATTERN = /^\/service\/([A-Za-z0-9]+)\/operation\/([A-Za-z0-9]+)$/;

export function parseCborPath(pathname: string, serviceTarget: string): string | undefined {
  const match = PATH_PATTERN.exec(pathname);
  return match && match[1] === serviceTarget ? match[2] : undefined;
}

export function decodeCborInput(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let decoded: unknown;
  try {
    decoded = cbor.deserialize(body);
  } catch {
    throw new CloudWatchError('ValidationException', 'Request body is not valid CBOR');
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw new CloudWatchError('ValidationException', 'Request body must be a CBOR map');
  }
  return decoded as Record<string, unknown>;
}

export function encodeCborOutput(output: object): Buffer {
  return Buffer.from(cbor.serialize(withTaggedDates(output)));
}

function withTaggedDates(value: unknown): unknown {
  if (value instanceof Date) return dateToTag(value);
  if (Array.isArray(value)) return value.map(withTaggedDates);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, member]) => member !== undefined)
        .map(([key, member]) => [key, withTaggedDates(member)]),
    );
  }
  return value;
}
