import { canonicalJson } from '../canonical-json.ts';

export const HEAD_SIGNING_ALGORITHM = 'ECDSA_SHA_256' as const;

/**
 * What is signed at each checkpoint (every status change of the run, each approval decision) and when
 * the run finishes: the length and last hash of its chain, and the run's status at that point.
 */
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

/** The object key of a run's final signed head in the artifact vault. */
export const headObjectKey = (runId: string) => `audit/heads/${runId}.json`;

/** Where a run's checkpoints live: one object per signed length, zero-padded so keys sort by seq. */
export const checkpointPrefix = (runId: string) => `audit/checkpoints/${runId}/`;
export const checkpointObjectKey = (runId: string, eventCount: number) => `${checkpointPrefix(runId)}${String(eventCount).padStart(10, '0')}.json`;
