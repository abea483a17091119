import { defaultCatalog } from '../../actions/catalog.ts';
import { DynamoItemStore } from '../../adapters/dynamo-item-store.ts';
import { S3ObjectStore } from '../../adapters/s3-object-store.ts';
import { createAwsClients } from '../../adapters/aws-clients.ts';
import type { IsolatedApply } from '../../core/runs/deps.ts';
import { executeTask, fromEnvelope, fromWire, toEnvelope, toWire } from '../../core/runs/task-executor.ts';
import type { ExecutionEnvelope, ExecutorDeps, TaskExecutor } from '../../core/runs/task-executor.ts';
import { loadExecutorConfig } from '../shared/config.ts';
import { createEgressRuntime } from '../shared/egress.ts';
import { loadGuardrails } from '../shared/guardrails.ts';

/**
 * An executor's composition root: the action catalog, an S3 and a DynamoDB client for the managed
 * targets, the egress services. Nothing here can reach Maestro's state repository, locks, control
 * record, vault or keys (in AWS its role holds no grant on them either).
 */
export function createExecutorDeps(options: { applyIsolated?: (request: IsolatedApply) => Promise<Record<string, unknown>> } = {}): ExecutorDeps {
  const config = loadExecutorConfig();
  const clients = createAwsClients({ s3ForcePathStyle: config.s3ForcePathStyle });
  const objects = new S3ObjectStore(clients.s3);
  const items = new DynamoItemStore(clients.dynamodb);
  const guardrails = loadGuardrails();
  const fromConfig = Object.fromEntries(
    Object.entries(guardrails.environments).flatMap(([name, environment]) => (environment.egress ? [[name, environment.egress]] : [])),
  );
  const egress = createEgressRuntime({ ...config.egress, allowlists: { ...fromConfig, ...config.egress.allowlists } });
  const { applyIsolated } = options;
  return {
    catalog: defaultCatalog(),
    targets: (request) => ({ objects, items, runId: request.runId, taskIndex: request.taskIndex, idempotencyKey: request.idempotencyKey, egress: egress.forEnvironment(request.environment) }),
    applyIsolated: applyIsolated && ((request, timeMs) => applyIsolated({ ...request, timeMs })),
    clock: () => new Date(),
  };
}

/**
 * The executor of the embedded stack: the same executor code and deps as the Lambda functions, in
 * this process, with the request and its answer crossing as JSON (as they cross Lambda's Invoke), so
 * an error arrives by name exactly as it would in AWS.
 */
export function inProcessExecutor(deps: () => ExecutorDeps): TaskExecutor {
  return {
    async execute(request) {
      const sent = fromWire(JSON.parse(JSON.stringify(toWire(request)))) as typeof request;
      const envelope = await toEnvelope(() => executeTask(deps(), sent));
      return fromEnvelope(fromWire(JSON.parse(JSON.stringify(toWire(envelope)))) as ExecutionEnvelope);
    },
  };
}
