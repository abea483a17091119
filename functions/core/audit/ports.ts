import type { SignedAuditHead } from './signed-head.ts';

/** Signs and verifies audit heads (KMS `alias/maestro-manifest-signing`, ECDSA_SHA_256). */
export interface HeadSigner {
  /** The key the signatures are made with (an alias or key id), recorded on the head. */
  readonly keyId: string;
  sign(message: Uint8Array): Promise<{ signature: string; keyId: string }>;
  verify(message: Uint8Array, signature: string): Promise<boolean>;
}

/** A run's signed heads as stored: the final one (signed when the run finished) and the checkpoints. */
export interface StoredAuditHeads {
  final?: SignedAuditHead;
  /** Heads signed while the run was in flight (and every final one too), in `eventCount` order. */
  checkpoints: SignedAuditHead[];
}

/** Where signed heads are kept (the versioned, Object-Locked artifact vault). */
export interface AuditHeadStore {
  /** The final head and every checkpoint. */
  list(runId: string): Promise<StoredAuditHeads>;
  /**
   * The final head (unless `final: false`) and the checkpoint with the highest `eventCount`: what a new
   * seal builds on. A run in flight has no final head to read (every final head is stored as a checkpoint too).
   */
  latest(runId: string, options?: { final?: boolean }): Promise<{ final?: SignedAuditHead; checkpoint?: SignedAuditHead }>;
  /** Stores a checkpoint at its `eventCount`; a `final` one is also the run's final head. */
  put(head: SignedAuditHead, options?: { final?: boolean }): Promise<void>;
}

/** Both ends of head signing; absent when no artifact bucket is configured. */
export interface AuditSealing {
  signer: HeadSigner;
  heads: AuditHeadStore;
}
