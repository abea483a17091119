import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { defaultCatalog } from '../../functions/actions/catalog.ts';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import type { WriteGuard } from '../../functions/core/actions/ports.ts';
import { DynamoItemStore } from '../../functions/adapters/dynamo-item-store.ts';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store.ts';
import type { RestoreGate } from '../../functions/core/dr/ports.ts';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';
import type { TaskPlan } from '../../functions/core/runs/model.ts';
import { parentPort } from './parent-port.ts';

/**
 * Runs inside the sandbox process (SandboxRunner): applies one task's plan with the clients of the
 * managed targets only, built from the few variables the sandbox was given (isolated-apply.ts: the
 * endpoints and credentials of the services this action uses, nothing of Maestro's own). The DR write
 * guard and the restore gate read Maestro's state, so they stay in the parent and are called through
 * the IPC channel. Only the outcome (or the error) crosses back.
 */
export async function applyInSandbox(input: IsolatedApply): Promise<Record<string, unknown>> {
  const action = defaultCatalog().get(input.action, input.actionVersion);
  const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
  const ctx: ActionContext = {
    objects: new S3ObjectStore(new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined })),
    items: new DynamoItemStore(dynamodb),
    runId: input.runId,
    taskIndex: input.taskIndex,
    idempotencyKey: input.idempotencyKey,
    writeGuard: parentPort<WriteGuard>('writeGuard', ['assertWritable']),
    restoreGate: parentPort<RestoreGate>('restoreGate', ['describe', 'resume', 'abandon']),
  };
  const outcome = await action.apply(input.plan as TaskPlan, ctx);
  // Evidence, kept with the outcome, that this apply ran confined: its own process, under the permission model.
  return { ...outcome, isolation: { pid: process.pid, permissionModel: process.permission?.has('fs.write', '/') === false } };
}
