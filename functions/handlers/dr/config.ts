import { z } from 'zod';

const DrEnvironment = z.object({
  MAESTRO_STATE_TABLE: z.string().min(3, 'must name the state table'),
  MAESTRO_ARTIFACT_BUCKET: z.string().min(3, 'must name the artifact vault bucket'),
  MAESTRO_MANIFEST_KEY_ID: z.string().min(1).default('alias/maestro-manifest-signing'),
  MAESTRO_DR_BACKUP_STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  MAESTRO_DR_RESTORE_STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  MAESTRO_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).optional(),
  AWS_ENDPOINT_URL: z.string().optional(),
  AWS_ENDPOINT_URL_S3: z.string().optional(),
});

export interface DrConfig {
  stateTable: string;
  artifactBucket: string;
  manifestKeyId: string;
  backupStateMachineArn?: string;
  restoreStateMachineArn?: string;
  s3ForcePathStyle: boolean;
}

/** The DR handlers' environment, read once; fails loudly naming the bad key. */
export function loadDrConfig(env: NodeJS.ProcessEnv = process.env): DrConfig {
  const parsed = DrEnvironment.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid DR configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  return {
    stateTable: e.MAESTRO_STATE_TABLE,
    artifactBucket: e.MAESTRO_ARTIFACT_BUCKET,
    manifestKeyId: e.MAESTRO_MANIFEST_KEY_ID,
    backupStateMachineArn: e.MAESTRO_DR_BACKUP_STATE_MACHINE_ARN,
    restoreStateMachineArn: e.MAESTRO_DR_RESTORE_STATE_MACHINE_ARN,
    s3ForcePathStyle: e.MAESTRO_S3_FORCE_PATH_STYLE ? e.MAESTRO_S3_FORCE_PATH_STYLE === 'true' : Boolean(e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL),
  };
}
