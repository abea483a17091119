import * as z from 'zod';
import { canonicalJson, sha256Hex } from '../canonical-json.ts';
import { ArtifactRejected } from '../errors.ts';

export const MANIFEST_FORMAT = 'maestro-dr-manifest/1';
export const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const Sample = z.object({ key: z.unknown(), sha256: Sha256 });

export const ManifestSource = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('table'),
    id: z.string(),
    name: z.string(),
    physical: z.string(),
    keySchema: z.array(z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) })),
    attributeDefinitions: z.array(z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) })),
    records: z.number().int().min(0),
    rawBytes: z.number().int().min(0),
    contentDigest: Sha256,
    samples: z.array(Sample),
  }),
  z.object({
    kind: z.literal('prefix'),
    id: z.string(),
    bucket: z.string(),
    prefix: z.string(),
    physicalPrefix: z.string(),
    /** Objects larger than this were stored as chunk records of this many bytes (absent: every object whole). */
    objectChunkBytes: z.number().int().min(1).optional(),
    records: z.number().int().min(0),
    rawBytes: z.number().int().min(0),
    contentDigest: Sha256,
    samples: z.array(Sample),
  }),
]);
export type ManifestSource = z.infer<typeof ManifestSource>;

export const ManifestPart = z.object({
  index: z.number().int().min(0),
  key: z.string(),
  source: z.string(),
  records: z.number().int().min(0),
  /** Bytes as stored (after compression): what `sha256` covers. */
  bytes: z.number().int().min(0),
  rawBytes: z.number().int().min(0),
  sha256: Sha256,
  /** How this part is stored, when the target chose per part (`auto`); absent: the manifest's `compression`. */
  compression: z.enum(['gzip', 'none']).optional(),
});
export type ManifestPart = z.infer<typeof ManifestPart>;

export const Manifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  snapshotId: z.string(),
  target: z.string(),
  reason: z.string().optional(),
  requestedBy: z.string().optional(),
  startedAt: z.string(),
  completedAt: z.string(),
  vault: z.object({ bucket: z.string(), prefix: z.string() }),
  compression: z.enum(['gzip', 'none', 'auto']),
  sources: z.array(ManifestSource),
  parts: z.array(ManifestPart),
  totals: z.object({ parts: z.number().int(), records: z.number().int(), bytes: z.number().int(), rawBytes: z.number().int() }),
});
export type Manifest = z.infer<typeof Manifest>;

/** What is stored: the manifest, its SHA-256 (over the canonical form) and the KMS signature of that digest. */
export const SignedManifest = z.object({
  manifest: Manifest,
  sha256: Sha256,
  signature: z.object({ algorithm: z.literal(SIGNING_ALGORITHM), keyId: z.string(), value: z.string().min(1) }),
});
export type SignedManifest = z.infer<typeof SignedManifest>;

/** The exact bytes that are hashed and signed: canonical JSON (keys sorted at every depth). */
export function canonicalManifest(manifest: Manifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

export function manifestSha256(manifest: Manifest): string {
  return sha256Hex(canonicalManifest(manifest));
}

export const vaultPrefix = (target: string, snapshotId: string) => `dr/${target}/${snapshotId}/`;
export const manifestKey = (target: string, snapshotId: string) => `${vaultPrefix(target, snapshotId)}manifest.json`;
export const partKey = (target: string, snapshotId: string, index: number, compression: 'gzip' | 'none') =>
  `${vaultPrefix(target, snapshotId)}parts/${String(index).padStart(6, '0')}.jsonl${compression === 'gzip' ? '.gz' : ''}`;
export const evidenceKey = (target: string, snapshotId: string, jobId: string) => `${vaultPrefix(target, snapshotId)}restore-tests/${jobId}.json`;

/** How a part is stored: its own choice (targets with `compression: auto`), else the manifest's. */
export function partCompression(manifest: Pick<Manifest, 'compression'>, part: ManifestPart): 'gzip' | 'none' {
  const compression = part.compression ?? manifest.compression;
  if (compression === 'auto') {
    throw new ArtifactRejected(`part ${part.key} does not say how it is stored`, { details: { check: 'part-list', part: part.key } });
  }
  return compression;
}

/**
 * Parses a stored manifest and checks that its recorded SHA-256 matches its canonical form. The
 * signature is checked separately, over that digest, with the trusted key (KMS or a public key).
 */
export function parseSignedManifest(bytes: Buffer): SignedManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ArtifactRejected('the manifest is not JSON', { details: { check: 'manifest-format' } });
  }
  const parsed = SignedManifest.safeParse(json);
  if (!parsed.success) {
    throw new ArtifactRejected(`the manifest is malformed: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`, {
      details: { check: 'manifest-format' },
    });
  }
  // Over the manifest as stored, not as parsed: parsing drops unknown members, which must count too.
  const actual = sha256Hex(canonicalJson((json as { manifest: unknown }).manifest));
  if (actual !== parsed.data.sha256) {
    throw new ArtifactRejected(`the manifest hashes to ${actual}, but it records ${parsed.data.sha256}: it was changed after signing`, {
      details: { check: 'manifest-sha256' },
    });
  }
  return parsed.data;
}
