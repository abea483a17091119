import { defaultCatalog } from '../../functions/actions/catalog.ts';
import { createTargetPorts } from '../../functions/adapters/target-ports.ts';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';
import { executeTask } from '../../functions/core/runs/task-executor.ts';

/**
 * Runs inside the sandbox process (SandboxRunner): an executor of one task's apply, with the clients of
 * the managed targets only, built from the few variables the sandbox was given (isolated-apply.ts: the
 * endpoints and credentials of the services this action uses, nothing of Maestro's own). The DR quiesce
 * flags arrive with the request, as data. Only the outcome (or the error) crosses back.
 */
export async function applyInSandbox(input: IsolatedApply): Promise<Record<string, unknown>> {
  // Each client package is loaded only when the action first calls its service (SDK v3 reads AWS_ENDPOINT_URL_<SERVICE>).
  const ports = createTargetPorts({
    s3: async () => new (await import('@aws-sdk/client-s3')).S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined }),
    dynamodb: async () =>
      (await import('@aws-sdk/lib-dynamodb')).DynamoDBDocumentClient.from(new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient({}), {
        marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
      }),
    lambda: async () => new (await import('@aws-sdk/client-lambda')).LambdaClient({}),
    ssm: async () => new (await import('@aws-sdk/client-ssm')).SSMClient({}),
    cloudwatch: async () => new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient({}),
  });
  const targets = { ...ports, runId: input.runId, taskIndex: input.taskIndex, idempotencyKey: input.idempotencyKey, attempt: input.attempt };
  const outcome = (await executeTask(
    { catalog: defaultCatalog(), targets: () => targets, clock: () => new Date() },
    { ...input, operation: 'apply' },
  )) as Record<string, unknown>;
  // Evidence, kept with the outcome, that this apply ran confined: its own process, under the permission model.
  return { ...outcome, isolation: { pid: process.pid, permissionModel: process.permission?.has('fs.write', '/') === false } };
}
