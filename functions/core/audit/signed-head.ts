import { canonicalJson } from '../canonical-json.ts';

export const HEAD_SIGNING_ALGORITHM = 'ECDSA_SHA_256' as const;

/** What is signed when a run finishes: the length and last hash of its chain, and how it ended. */
export interface AuditHead {
  runId: string;
  eventCount: number;
  headHash: string;
  status: string;
}

export interface SignedAuditHead extends AuditHead {
  algorithm: typeof HEAD_SIGNING_ALGORITHM;
  keyId: string;
  /** Base64 DER ECDSA signature over {@link headMessage}. */
  signature: string;
  signedAt: string;
}

/** The exact bytes signed: canonical JSON of the head's four fields. */
export function headMessage(head: AuditHead): Uint8Array {
  const { runId, eventCount, headHash, status } = head;
  return new TextEncoder().encode(canonicalJson({ runId, eventCount, headHash, status }));
}

/** The object key of a run's signed head in the artifact vault. */
export const headObjectKey = (runId: string) => `audit/heads/${runId}.json`;
