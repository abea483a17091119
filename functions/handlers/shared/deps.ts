import { randomUUID } from 'node:crypto';
import { defaultCatalog } from '../../actions/catalog.ts';
import { DynamoControlStore } from '../../adapters/dynamo-control-store.ts';
import { DynamoDrRepository } from '../../adapters/dynamo-dr-repository.ts';
import { DynamoItemStore } from '../../adapters/dynamo-item-store.ts';
import { DynamoLinkLedger } from '../../adapters/dynamo-link-ledger.ts';
import { KmsLinkSigner } from '../../adapters/kms-link-signer.ts';
import { EventBridgeSlackNotifier, FanOutNotifier, RecordingNotifier, SesEmailNotifier, SlackWebhookNotifier } from '../../adapters/notifiers.ts';
import type { Notifier } from '../../core/approvals/ports.ts';
import { DynamoLockStore } from '../../adapters/dynamo-lock-store.ts';
import { QuiesceWriteGuard } from '../../adapters/quiesce-write-guard.ts';
import { DynamoRateLimiter } from '../../adapters/dynamo-rate-limiter.ts';
import { DynamoRunRepository } from '../../adapters/dynamo-run-repository.ts';
import { S3ObjectStore } from '../../adapters/s3-object-store.ts';
import { SfnWorkflowEngine } from '../../adapters/sfn-workflow-engine.ts';
import { createAwsClients } from '../../adapters/aws-clients.ts';
import { createRestoreGate } from '../../core/dr/restore-approval.ts';
import { loadDrTargets } from '../../core/dr/targets.ts';
import type { IsolatedApply, RunDeps } from '../../core/runs/deps.ts';
import { loadHandlerConfig } from './config.ts';
import { createEgressRuntime } from './egress.ts';
import type { EgressRuntime } from './egress.ts';
import { loadGuardrails, loadPolicyEngine } from './guardrails.ts';
import type { HandlerConfig } from './config.ts';
import { LambdaTaskExecutor } from '../../adapters/lambda-task-executor.ts';
import { executorClassOf } from '../../core/runs/task-executor.ts';
import type { ExecutorDeps, TaskExecutor } from '../../core/runs/task-executor.ts';
import { createExecutorDeps, inProcessExecutor } from '../run/executor-deps.ts';

export interface HandlerDeps extends RunDeps {
  config: HandlerConfig;
  /** Egress guard, licenses, budgets and breaker (http.fetch, POST /egress/check). */
  egress: EgressRuntime;
}

/** The composition root: builds the adapters from configuration. */
export function createHandlerDeps(config: HandlerConfig = loadHandlerConfig()): HandlerDeps {
  const clients = createAwsClients({ s3ForcePathStyle: config.s3ForcePathStyle });
  const objects = new S3ObjectStore(clients.s3);
  const items = new DynamoItemStore(clients.dynamodb);
  const drRepository = new DynamoDrRepository({ client: clients.dynamodb, tableName: config.stateTable });
  const writeGuard = new QuiesceWriteGuard({ repo: drRepository });
  const engine = new SfnWorkflowEngine({ client: clients.sfn, runStateMachineArn: config.runStateMachineArn });
  const linkSigner = new KmsLinkSigner({ client: clients.kms, keyId: config.approvalKey });
  const restoreGate = createRestoreGate({ repo: drRepository, engine, linkSigner, targets: loadDrTargets() });
  const guardrails = loadGuardrails();
  const catalog = defaultCatalog();
  // Egress allowlists come from maestro.config.yaml; MAESTRO_EGRESS_ALLOWLIST overrides an environment's.
  const fromConfig = Object.fromEntries(
    Object.entries(guardrails.environments).flatMap(([name, environment]) => (environment.egress ? [[name, environment.egress]] : [])),
  );
  const egress = createEgressRuntime({ ...config.egress, allowlists: { ...fromConfig, ...config.egress.allowlists } });
  return {
    config,
    egress,
    runs: new DynamoRunRepository({ client: clients.dynamodb, tableName: config.stateTable }),
    engine,
    catalog,
    guardrails,
    policy: loadPolicyEngine(),
    control: new DynamoControlStore({ client: clients.dynamodb, tableName: config.stateTable }),
    locks: new DynamoLockStore({ client: clients.dynamodb, tableName: config.stateTable }),
    rateLimiter: new DynamoRateLimiter({ client: clients.dynamodb, tableName: config.stateTable }),
    // Refused to every action whatever maestro.config.yaml declares (core/safety/managed-resources.ts).
    ownResources: { stateTable: config.stateTable, artifactBucket: process.env.MAESTRO_ARTIFACT_BUCKET, names: [config.approvalKey, process.env.MAESTRO_MANIFEST_KEY_ID, process.env.MAESTRO_EVENT_BUS_NAME].filter((name): name is string => Boolean(name)) },
    linkSigner,
    linkLedger: new DynamoLinkLedger({ client: clients.dynamodb, tableName: config.stateTable }),
    notifier: createNotifier(config),
    publicUrl: config.publicUrl,
    actionContext: (run, task) => ({ objects, items, runId: run.id, taskIndex: task.index, idempotencyKey: task.idempotencyKey, egress: egress.forEnvironment(run.environment), writeGuard, restoreGate }),
    executor: createTaskExecutor(config, catalog),
    quiesceFlags: () => drRepository.listQuiesceFlags(),
    clock: () => new Date(),
    newId: () => randomUUID(),
  };
}

/**
 * Where actions run: in AWS, the executor functions (their roles hold the managed targets only); in
 * the embedded stack, this process with the executors' own target-only dependencies.
 */
function createTaskExecutor(config: HandlerConfig, catalog: RunDeps['catalog']): TaskExecutor {
  if (config.taskExecutors) {
    return new LambdaTaskExecutor({ functions: config.taskExecutors, classOf: (request) => executorClassOf(request.operation, catalog.get(request.action, request.actionVersion)) });
  }
  let executorDeps: ExecutorDeps | undefined;
  return inProcessExecutor(() => (executorDeps ??= createExecutorDeps({ applyIsolated: isolatedApplyRunner })));
}

let isolatedApplyRunner: ((request: IsolatedApply) => Promise<Record<string, unknown>>) | undefined;

/** Sets where network-reaching applies run (the embedded stack's sandbox); unset, they run in-process. */
export function useIsolatedApply(runner: typeof isolatedApplyRunner): void {
  isolatedApplyRunner = runner;
  shared = undefined;
}

/** Slack and SES where configured; the recording sink where a file is given (the embedded stack). */
function createNotifier(config: HandlerConfig): Notifier {
  const { file, slackWebhookUrl, slackEventBus, sesFrom } = config.notifications;
  return new FanOutNotifier([
    ...(file ? [new RecordingNotifier(file)] : []),
    ...(slackWebhookUrl ? [new SlackWebhookNotifier(slackWebhookUrl)] : []),
    ...(slackEventBus ? [new EventBridgeSlackNotifier({ eventBusName: slackEventBus })] : []),
    ...(sesFrom ? [new SesEmailNotifier({ from: sesFrom })] : []),
  ]);
}

let shared: HandlerDeps | undefined;

/** One set of clients per process (per Lambda container), built on first use. */
export function handlerDeps(): HandlerDeps {
  shared ??= createHandlerDeps();
  return shared;
}

/** Forgets the shared dependencies so the next call rebuilds them from the environment (the embedded stack after a restart). */
export function resetHandlerDeps(): void {
  shared = undefined;
}
