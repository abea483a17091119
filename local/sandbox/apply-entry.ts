import { adaptersOnFirstCall } from '../../functions/adapters/lazy-target-adapters.ts';
import { createTargetPorts } from '../../functions/adapters/target-ports.ts';
import type { ActionCatalog } from '../../functions/core/actions/catalog.ts';
import type { PackEntry } from '../../functions/core/config/packs.ts';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';
import { executeTask } from '../../functions/core/runs/task-executor.ts';
import type { ExecutorDeps } from '../../functions/core/runs/task-executor.ts';
import { loadCatalog } from '../../functions/packs/loader.ts';

/**
 * The executor inside the sandbox: the action catalog and the clients of the managed targets only,
 * built from the few variables the sandbox was given (isolated-apply.ts: the endpoints and credentials
 * of the services this action uses, nothing of Maestro's own). Built once per sandbox process and kept
 * for its later applies, as a Lambda execution environment keeps what its init built: a warm worker
 * serves one action only, so every apply it answers has the same environment and grants.
 */
function createSandboxExecutorDeps(packs: readonly PackEntry[]): ExecutorDeps {
  // Each client package is loaded only when the action first calls its service (SDK v3 reads AWS_ENDPOINT_URL_<SERVICE>).
  const ports = createTargetPorts(
    {
      s3: async () => new (await import('@aws-sdk/client-s3')).S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined }),
      dynamodb: async () =>
        (await import('@aws-sdk/lib-dynamodb')).DynamoDBDocumentClient.from(new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient({}), {
          marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
        }),
      lambda: async () => new (await import('@aws-sdk/client-lambda')).LambdaClient({}),
      ssm: async () => new (await import('@aws-sdk/client-ssm')).SSMClient({}),
      cloudwatch: async () => new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient({}),
    },
    adaptersOnFirstCall,
  );
  return {
    catalog: sandboxCatalog(packs),
    targets: (request) => ({
      ...ports,
      runId: request.runId,
      taskIndex: request.taskIndex,
      idempotencyKey: request.idempotencyKey,
      attempt: request.attempt,
    }),
    clock: () => new Date(),
  };
}

let deps: ExecutorDeps | undefined;

/**
 * Runs inside the sandbox process (sandbox-worker.ts): one task's apply. The DR quiesce flags arrive
 * with the request, as data. Only the outcome (or the error) crosses back.
 */
export async function applyInSandbox(input: IsolatedApply, packs: readonly PackEntry[] = []): Promise<Record<string, unknown>> {
  // A warm worker serves one action, so its pins are the same at every call.
  deps ??= createSandboxExecutorDeps(packs);
  const outcome = (await executeTask(deps, { ...input, operation: 'apply' })) as Record<string, unknown>;
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
