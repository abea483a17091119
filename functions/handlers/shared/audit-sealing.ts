import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { AuditVault } from '../../adapters/audit-vault.ts';
import { KmsSigner } from '../../adapters/kms-signer.ts';
import type { AuditSealing } from '../../core/audit/ports.ts';
import { checkpointRunHead } from '../../core/audit/seal-run-head.ts';
import type { SealOutcome } from '../../core/audit/seal-run-head.ts';
import type { RunRepository } from '../../core/runs/ports.ts';
import { loadHandlerConfig } from './config.ts';

/** The key audit heads are signed with: the manifest-signing key (ECC_NIST_P256), by alias. */
export const DEFAULT_AUDIT_SIGNING_KEY = 'alias/maestro-manifest-signing';

const AuditEnvironment = z.object({
  /** The artifact vault; without it no head is signed or checked (verify then says so). */
  MAESTRO_ARTIFACT_BUCKET: z.string().regex(/^[a-z0-9.-]{3,63}$/, 'must be an S3 bucket name').optional(),
  MAESTRO_AUDIT_SIGNING_KEY: z.string().min(1).default(DEFAULT_AUDIT_SIGNING_KEY),
  /**
   * `off` where the function may not sign (in AWS: the API and the executing steps): no checkpoint is
   * attempted there; the final head (Finalize) is not affected. @default on
   */
  MAESTRO_AUDIT_CHECKPOINTS: z.enum(['on', 'off']).default('on'),
});

let cached: { fingerprint: string; sealing: AuditSealing | undefined } | undefined;

/**
 * The signer and head store built from the environment, once per process (rebuilt when the
 * environment changes, as when the embedded stack restarts on new ports).
 */
export function auditSealing(env: NodeJS.ProcessEnv = process.env): AuditSealing | undefined {
  const fingerprint = [env.MAESTRO_ARTIFACT_BUCKET, env.MAESTRO_AUDIT_SIGNING_KEY, env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL_KMS, env.AWS_ENDPOINT_URL].join('|');
  if (cached?.fingerprint === fingerprint) return cached.sealing;
  const parsed = AuditEnvironment.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid audit configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const { MAESTRO_ARTIFACT_BUCKET: bucket, MAESTRO_AUDIT_SIGNING_KEY: keyId } = parsed.data;
  const sealing = bucket
    ? {
        signer: new KmsSigner({ client: new KMSClient({}), keyId }),
        heads: new AuditVault({ client: new S3Client({ forcePathStyle: loadHandlerConfig(env).s3ForcePathStyle }), bucket }),
      }
    : undefined;
  cached = { fingerprint, sealing };
  return sealing;
}

/**
 * Signs a checkpoint of the run's audit head (see core/audit/seal-run-head.ts): after a workflow step
 * changed the run's status (`unlessStatus`: the status before the step), and after each approval
 * decision or cancel through the API. Never throws.
 */
export async function checkpointRun(
  deps: { runs: RunRepository; clock(): Date },
  runId: string,
  options: { unlessStatus?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<SealOutcome> {
  const env = options.env ?? process.env;
  try {
    if (AuditEnvironment.parse(env).MAESTRO_AUDIT_CHECKPOINTS === 'off') return 'not-configured';
    return await checkpointRunHead({ runs: deps.runs, sealing: auditSealing(env), clock: deps.clock }, runId, { unlessStatus: options.unlessStatus });
  } catch (error) {
    console.warn(`audit checkpoint of run ${runId} failed: ${(error as Error).message}`);
    return 'failed';
  }
}
