import type { SignedAuditHead } from './signed-head.ts';

/** Signs and verifies audit heads (KMS `alias/maestro-manifest-signing`, ECDSA_SHA_256). */
export interface HeadSigner {
  /** The key the signatures are made with (an alias or key id), recorded on the head. */
  readonly keyId: string;
  sign(message: Uint8Array): Promise<{ signature: string; keyId: string }>;
  verify(message: Uint8Array, signature: string): Promise<boolean>;
}

/** Where signed heads are kept (the versioned, Object-Locked artifact vault). */
export interface AuditHeadStore {
  get(runId: string): Promise<SignedAuditHead | undefined>;
  put(head: SignedAuditHead): Promise<void>;
}

/** Both ends of head signing; absent when no artifact bucket is configured. */
export interface AuditSealing {
  signer: HeadSigner;
  heads: AuditHeadStore;
}
