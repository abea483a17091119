import { ClientPool, cloudwatchClient, dynamodbClient, lambdaClient, s3Client, ssmClient } from '../../adapters/aws-clients.ts';
import { targetAdapters } from '../../adapters/target-adapters.ts';
import { createTargetPorts } from '../../adapters/target-ports.ts';
import { LambdaRemoteActionTransport } from '../../adapters/lambda-remote-action.ts';
import type { Action } from '../../core/actions/contract.ts';
import { remoteTransports } from '../../core/actions/remote-protocol.ts';
import type { RemoteActionTransport } from '../../core/actions/remote-protocol.ts';
import type { Config } from '../../core/config/schema.ts';
import { executeTask, executeTaskBatch, fromEnvelope, fromWire, settle, toEnvelope, toWire } from '../../core/runs/task-executor.ts';
import type { ExecutionEnvelope, ExecutorDeps, TaskExecutor } from '../../core/runs/task-executor.ts';
import type { PinnedTransport } from '../../adapters/guarded-http-client.ts';
import type { IsolatedApply } from '../../core/runs/deps.ts';
import { loadCatalog } from '../../packs/loader.ts';
import { egressRuntimeOf } from '../shared/egress.ts';

/**
 * An executor's composition root: the action catalog, the clients of the managed targets (S3,
 * DynamoDB, Lambda aliases, SSM parameters, CloudWatch alarms), the egress services. Nothing here can
 * reach Maestro's state repository, locks, control record, vault or keys (in AWS its role holds no
 * grant on them either).
 */
/** What the host injects into an executor (the embedded stack's sandbox); unset, everything runs in-process. */
export interface ExecutorHost {
  /** How http.fetch sends each (already checked) request. @default in process (in Lambda the function is the sandbox) */
  transport?: PinnedTransport;
  /** Where network-reaching applies run. @default in process */
  applyIsolated?: (request: IsolatedApply) => Promise<Record<string, unknown>>;
  /** How remote actions reach their code. @default Lambda Invoke for `lambdaArn` endpoints (AWS); other kinds are refused */
  remote?: RemoteActionTransport;
  /**
   * Actions besides the built-ins (a test's fixtures, until packs load from the configuration).
   * @default none
   */
  extraActions?: readonly Action[];
}

export function createExecutorDeps(config: Config, host: ExecutorHost = {}): ExecutorDeps {
  // The managed targets' clients only, each built on first use: the bundle carries no other SDK client.
  const pool = new ClientPool(config.aws);
  const ports = createTargetPorts(
    {
      s3: () => pool.use(s3Client),
      dynamodb: () => pool.use(dynamodbClient),
      lambda: () => pool.use(lambdaClient),
      ssm: () => pool.use(ssmClient),
      cloudwatch: () => pool.use(cloudwatchClient),
    },
    targetAdapters,
  );
  const egress = egressRuntimeOf(config, host.transport);
  const { applyIsolated } = host;
  const remote = host.remote ?? remoteTransports({ lambda: new LambdaRemoteActionTransport({ client: pool.use(lambdaClient) }) });
  return {
    // The same catalog as the control plane's: built once per configuration, packs verified against their pins.
    catalog: loadCatalog(config, undefined, host.extraActions),
    targets: (request) => ({
      ...ports,
      runId: request.runId,
      taskIndex: request.taskIndex,
      idempotencyKey: request.idempotencyKey,
      attempt: request.attempt,
      egress: egress.forEnvironment(request.environment),
      environment: request.environment,
      remote,
    }),
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
  const crossing = <T>(value: T): T => fromWire(JSON.parse(JSON.stringify(toWire(value)))) as T;
  return {
    async execute(request) {
      const envelope = await toEnvelope(() => executeTask(deps(), crossing(request)));
      return fromEnvelope(crossing(envelope) as ExecutionEnvelope);
    },
    // One executor here (in AWS one call per executor function): the batch crosses as one JSON message each way.
    async executeBatch(requests) {
      const envelopes = crossing(await executeTaskBatch(deps(), crossing([...requests])));
      return Promise.all(envelopes.map((envelope) => settle(() => fromEnvelope(envelope))));
    },
  };
}
