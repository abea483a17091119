import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoItemStore } from '../../functions/adapters/dynamo-item-store.ts';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store.ts';
import type { ActionCatalog } from '../../functions/core/actions/catalog.ts';
import type { PackEntry } from '../../functions/core/config/packs.ts';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';
import { executeTask } from '../../functions/core/runs/task-executor.ts';
import { loadCatalog } from '../../functions/packs/loader.ts';

/**
 * Runs inside the sandbox process (SandboxRunner): an executor of one task's apply, with the clients of
 * the managed targets only, built from the few variables the sandbox was given (isolated-apply.ts: the
 * endpoints and credentials of the services this action uses, nothing of Maestro's own). The DR quiesce
 * flags arrive with the request, as data. Only the outcome (or the error) crosses back.
 */
export async function applyInSandbox(input: IsolatedApply, packs: readonly PackEntry[] = []): Promise<Record<string, unknown>> {
  const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
  const objects = new S3ObjectStore(new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined }));
  const items = new DynamoItemStore(dynamodb);
  const targets = { objects, items, runId: input.runId, taskIndex: input.taskIndex, idempotencyKey: input.idempotencyKey, attempt: input.attempt };
  const outcome = (await executeTask(
    { catalog: sandboxCatalog(packs), targets: () => targets, clock: () => new Date() },
    { ...input, operation: 'apply' },
  )) as Record<string, unknown>;
  // Evidence, kept with the outcome, that this apply ran confined: its own process, under the permission model.
  return { ...outcome, isolation: { pid: process.pid, permissionModel: process.permission?.has('fs.write', '/') === false } };
}

/**
 * The catalog inside the sandbox: the built-ins and the pack of the action being applied, from the
 * configuration's pin (the parent passes it, module already absolute), so the action is the one the
 * control plane planned. The pack is hashed again here: the child runs only the content that was pinned.
 */
export function sandboxCatalog(packs: readonly PackEntry[]): ActionCatalog {
  return loadCatalog({ packs });
}
