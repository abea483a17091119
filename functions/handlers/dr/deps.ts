import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDrRepository } from '../../adapters/dynamo-dr-repository.ts';
import { DynamoTableData } from '../../adapters/dynamo-table-data.ts';
import { KmsManifestSigner } from '../../adapters/kms-manifest-signer.ts';
import { S3ObjectData } from '../../adapters/s3-object-data.ts';
import { S3Vault } from '../../adapters/s3-vault.ts';
import { SfnDrWorkflows } from '../../adapters/sfn-dr-workflows.ts';
import { createAwsClients } from '../../adapters/aws-clients.ts';
import type { DrDeps } from '../../core/dr/ports.ts';
import { loadDrTargets } from '../../core/dr/targets.ts';
import { loadDrConfig } from './config.ts';
import type { DrConfig } from './config.ts';

/** The DR composition root: adapters from configuration, targets from `MAESTRO_DR_TARGETS`. */
export function createDrDeps(config: DrConfig = loadDrConfig()): DrDeps & { config: DrConfig } {
  const clients = createAwsClients({ s3ForcePathStyle: config.s3ForcePathStyle });
  return {
    config,
    repo: new DynamoDrRepository({ client: clients.dynamodb, tableName: config.stateTable }),
    tables: new DynamoTableData({ client: new DynamoDBClient({}) }),
    objects: new S3ObjectData({ client: clients.s3 }),
    vault: new S3Vault({ client: clients.s3, bucket: config.artifactBucket }),
    signer: new KmsManifestSigner({ client: clients.kms, keyId: config.manifestKeyId }),
    workflows: new SfnDrWorkflows({ client: clients.sfn, backupStateMachineArn: config.backupStateMachineArn, restoreStateMachineArn: config.restoreStateMachineArn }),
    targets: loadDrTargets(),
    clock: () => new Date(),
    newId: () => randomUUID(),
  };
}

let shared: ReturnType<typeof createDrDeps> | undefined;

/** One set per process (per Lambda container), built on first use. */
export function drDeps(): ReturnType<typeof createDrDeps> {
  shared ??= createDrDeps();
  return shared;
}

/** The next call rebuilds from the environment (the embedded stack at start). */
export function resetDrDeps(): void {
  shared = undefined;
}
