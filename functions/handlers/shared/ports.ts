import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AuditVault } from '../../adapters/audit-vault.ts';
import {
  createAwsClients,
  dynamodbClient,
  dynamodbRawClient,
  eventbridgeClient,
  kmsClient,
  lambdaClient,
  s3Client,
  sesv2Client,
  sfnClient,
} from '../../adapters/aws-clients.ts';
import { DynamoApplyReads } from '../../adapters/dynamo-apply-reads.ts';
import { DynamoControlStore } from '../../adapters/dynamo-control-store.ts';
import { DynamoDeadLetterStore } from '../../adapters/dynamo-dead-letter-store.ts';
import { DynamoDrRepository } from '../../adapters/dynamo-dr-repository.ts';
import { DynamoDriftStore } from '../../adapters/dynamo-drift-store.ts';
import { DynamoItemStore } from '../../adapters/dynamo-item-store.ts';
import { DynamoLinkLedger } from '../../adapters/dynamo-link-ledger.ts';
import { DynamoLockStore } from '../../adapters/dynamo-lock-store.ts';
import { DynamoRateLimiter } from '../../adapters/dynamo-rate-limiter.ts';
import { DynamoRunRepository } from '../../adapters/dynamo-run-repository.ts';
import { DynamoSubscriptionStore, withCachedList } from '../../adapters/dynamo-subscription-store.ts';
import { DynamoTableData } from '../../adapters/dynamo-table-data.ts';
import { DynamoTemplateStore } from '../../adapters/dynamo-template-store.ts';
import { DynamoTriggerStore } from '../../adapters/dynamo-trigger-store.ts';
import { systemResolver } from '../../adapters/dns-resolver.ts';
import { EventBridgePublisher } from '../../adapters/event-bridge-publisher.ts';
import { KmsLinkSigner } from '../../adapters/kms-link-signer.ts';
import { KmsManifestSigner } from '../../adapters/kms-manifest-signer.ts';
import { KmsSigner } from '../../adapters/kms-signer.ts';
import { LambdaTaskExecutor } from '../../adapters/lambda-task-executor.ts';
import { EventBridgeSlackNotifier, FanOutNotifier, RecordingNotifier, SesEmailNotifier, SlackWebhookNotifier } from '../../adapters/notifiers.ts';
import { OidcTokenVerifier } from '../../adapters/oidc-token-verifier.ts';
import { QuiesceWriteGuard } from '../../adapters/quiesce-write-guard.ts';
import { S3ObjectData } from '../../adapters/s3-object-data.ts';
import { S3ObjectStore } from '../../adapters/s3-object-store.ts';
import { S3Vault } from '../../adapters/s3-vault.ts';
import { SfnDrWorkflows } from '../../adapters/sfn-dr-workflows.ts';
import { SfnWorkflowEngine } from '../../adapters/sfn-workflow-engine.ts';
import { WebhookSender } from '../../adapters/webhook-sender.ts';
import { SourceLimiter } from '../../core/approvals/source-limiter.ts';
import type { Notifier } from '../../core/approvals/ports.ts';
import type { DrDeps } from '../../core/dr/ports.ts';
import { createRestoreGate } from '../../core/dr/restore-approval.ts';
import { configuredDrTargets } from '../../core/dr/targets.ts';
import { egressPolicyFor } from '../../core/egress/policy.ts';
import type { OutboxDeps } from '../../core/outbox/ports.ts';
import { PolicyEngine } from '../../core/policy/policy-engine.ts';
import { deliverToSubscriptions } from '../../core/subscriptions/deliver-to-subscriptions.ts';
import type { SubscriptionDeps } from '../../core/subscriptions/ports.ts';
import { executorClassOf } from '../../core/runs/task-executor.ts';
import type { TaskExecutor } from '../../core/runs/task-executor.ts';
import { loadCatalog } from '../../packs/loader.ts';
import { lazyMembers } from './compose-deps.ts';
import type { DepsParts, Part, Wiring } from './compose-deps.ts';
import { egressRuntimeOf } from './egress.ts';

/**
 * The parts every composition root is made of: one per member of HandlerDeps (named as the member)
 * and the adapters several of them share. Each is its own export, and each reaches its SDK client
 * through the wiring's pool, so a root that names a few parts bundles only their adapters and clients.
 */

/** The Cedar schema (`*.cedarschema`) and every policy file (`*.cedar`) of `dir`. */
export function loadPolicyEngine(dir: string): PolicyEngine {
  const files = readdirSync(dir).sort();
  const schemaFile = files.find((file) => file.endsWith('.cedarschema'));
  if (!schemaFile) throw new Error(`no Cedar schema (*.cedarschema) in ${dir}`);
  const policies = files.filter((file) => file.endsWith('.cedar')).map((file) => readFileSync(join(dir, file), 'utf8'));
  return new PolicyEngine({ schema: readFileSync(join(dir, schemaFile), 'utf8'), policies: policies.join('\n') });
}

/** A port whose every method says which key is missing: for adapters whose resource is not configured. */
function unconfigured<T extends object>(key: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => (property === 'then' ? undefined : () => Promise.reject(new Error(`${key} is not configured`))),
  });
}

const documents = (w: Wiring) => w.client(dynamodbClient);
const table = (w: Wiring) => w.config.state.table;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Shared adapters (one instance per root, through `w.use`).
const drRepository: Part<DynamoDrRepository> = (w) => new DynamoDrRepository({ client: documents(w), tableName: table(w) });
const drTargets: Part<ReturnType<typeof configuredDrTargets>> = (w) => configuredDrTargets(w.config);
const writeGuard: Part<QuiesceWriteGuard> = (w) => new QuiesceWriteGuard({ repo: w.use(drRepository) });
const restoreGate: Part<ReturnType<typeof createRestoreGate>> = (w) =>
  createRestoreGate({ repo: w.use(drRepository), engine: w.use(engine), linkSigner: w.use(linkSigner), targets: w.use(drTargets) });
const runRepository: Part<DynamoRunRepository> = (w) => new DynamoRunRepository({ client: documents(w), tableName: table(w) });
const subscriptionDeps: Part<SubscriptionDeps> = (w) => {
  const { config } = w;
  const destinations = egressPolicyFor({ subscriptions: config.subscriptions.destinations }, 'subscriptions', { maxRedirects: 0 });
  const resolve = systemResolver(config.egress.staticHosts);
  const runs = w.use(runRepository);
  return {
    clock: w.use(clock),
    sleep,
    newId: w.use(newId),
    subscriptions: new DynamoSubscriptionStore({ client: documents(w), tableName: config.state.table }),
    sender: new WebhookSender({ policy: destinations, resolve }),
    deadLettersFor: (id) =>
      new DynamoDeadLetterStore({
        client: documents(w),
        tableName: config.state.table,
        keyPrefix: `SUBDLQ#${id}#`,
        indexPk: `SUBSCRIPTION_DEAD_LETTERS#${id}`,
      }),
    destinations,
    resolve,
    environmentOf: async (runId) => (await runs.get(runId))?.environment,
  };
};

/** The relay reads the subscription list once per batch: through a short cache (see withCachedList). */
const subscriptionDelivery: Part<SubscriptionDeps> = (w) => {
  const deps = w.use(subscriptionDeps);
  return { ...deps, subscriptions: withCachedList(deps.subscriptions) };
};

// One part per member of HandlerDeps.
export const config: DepsParts['config'] = (w) => w.config;
export const clients: DepsParts['clients'] = (w) => createAwsClients(w.config.aws, w.pool);
export const clock: DepsParts['clock'] = () => () => new Date();
export const newId: DepsParts['newId'] = () => () => randomUUID();
export const guardrails: DepsParts['guardrails'] = (w) => w.config.guardrails;
export const publicUrl: DepsParts['publicUrl'] = (w) => w.config.approvals.publicUrl;
export const configTriggers: DepsParts['configTriggers'] = (w) => w.config.triggers;
/** The built-ins and the configured packs, verified against their pins: a bad pack refuses start-up. */
export const catalog: DepsParts['catalog'] = (w) => loadCatalog(w.config, undefined, w.host.extraActions);
export const egress: DepsParts['egress'] = (w) => egressRuntimeOf(w.config, w.host.transport);
export const policy: DepsParts['policy'] = (w) => loadPolicyEngine(w.config.policy.dir);
export const runs: DepsParts['runs'] = (w) => w.use(runRepository);
export const engine: DepsParts['engine'] = (w) =>
  new SfnWorkflowEngine({ client: w.client(sfnClient), runStateMachineArn: w.config.workflows.runStateMachineArn });
export const linkSigner: DepsParts['linkSigner'] = (w) => new KmsLinkSigner({ client: w.client(kmsClient), keyId: w.config.approvals.linkKey });
export const linkLedger: DepsParts['linkLedger'] = (w) => new DynamoLinkLedger({ client: documents(w), tableName: table(w) });
export const control: DepsParts['control'] = (w) => new DynamoControlStore({ client: documents(w), tableName: table(w) });
export const locks: DepsParts['locks'] = (w) => new DynamoLockStore({ client: documents(w), tableName: table(w) });
export const rateLimiter: DepsParts['rateLimiter'] = (w) => new DynamoRateLimiter({ client: documents(w), tableName: table(w) });
export const templates: DepsParts['templates'] = (w) => new DynamoTemplateStore({ client: documents(w), tableName: table(w) });
export const triggers: DepsParts['triggers'] = (w) => new DynamoTriggerStore({ client: documents(w), tableName: table(w) });
export const drift: DepsParts['drift'] = (w) => new DynamoDriftStore({ client: documents(w), tableName: table(w) });
export const unverifiedLinks: DepsParts['unverifiedLinks'] = () => new SourceLimiter({ burst: 5, perMinute: 6 });
export const tokenVerifier: DepsParts['tokenVerifier'] = (w) => (w.config.identity.oidc ? new OidcTokenVerifier(w.config.identity.oidc) : undefined);
export const auditSealing: DepsParts['auditSealing'] = (w) => {
  const bucket = w.config.state.artifactBucket;
  return bucket
    ? {
        signer: new KmsSigner({ client: w.client(kmsClient), keyId: w.config.audit.signingKey }),
        heads: new AuditVault({ client: w.client(s3Client), bucket }),
      }
    : undefined;
};
/** Refused to every action whatever maestro.config.yaml declares (core/safety/managed-resources.ts). */
export const ownResources: DepsParts['ownResources'] = ({ config: c }) => ({
  stateTable: c.state.table,
  artifactBucket: c.state.artifactBucket,
  names: [c.approvals.linkKey, c.dr.manifestKeyId, c.audit.signingKey, c.outbox.eventBusName].filter((name) => name !== 'default'),
});
/** Slack and SES where configured; the recording sink where a file is given (the embedded stack). */
export const notifier: DepsParts['notifier'] = (w): Notifier => {
  const { notificationsFile, slackWebhookUrl, slackEventBus, sesFrom } = w.config.approvals;
  return new FanOutNotifier([
    ...(notificationsFile ? [new RecordingNotifier(notificationsFile)] : []),
    ...(slackWebhookUrl ? [new SlackWebhookNotifier(slackWebhookUrl)] : []),
    ...(slackEventBus ? [new EventBridgeSlackNotifier({ eventBusName: slackEventBus, client: w.client(eventbridgeClient) })] : []),
    ...(sesFrom ? [new SesEmailNotifier({ from: sesFrom, client: w.client(sesv2Client) })] : []),
  ]);
};
/** The control plane's own context, for the actions that run in it (core/runs/on-targets.ts). */
export const actionContext: DepsParts['actionContext'] = (w) => (run, task) => ({
  objects: w.use(objectStore),
  items: w.use(itemStore),
  runId: run.id,
  taskIndex: task.index,
  idempotencyKey: task.idempotencyKey,
  egress: w.use(egress).forEnvironment(run.environment),
  writeGuard: w.use(writeGuard),
  restoreGate: w.use(restoreGate),
});
const objectStore: Part<S3ObjectStore> = (w) => new S3ObjectStore(w.client(s3Client));
const itemStore: Part<DynamoItemStore> = (w) => new DynamoItemStore(documents(w));
export const quiesceFlags: DepsParts['quiesceFlags'] = (w) => () => w.use(drRepository).listQuiesceFlags();
export const applyReads: DepsParts['applyReads'] = (w) =>
  new DynamoApplyReads({ client: documents(w), tableName: table(w), quiesceTargets: w.use(drTargets).map((target) => target.name) });

/**
 * Where a Lambda function runs actions: the executor functions (their roles hold the managed targets
 * only), invoked through Lambda. The embedded stack's root runs them in its own process instead
 * (deps.ts), so no Lambda bundle carries the executors' target clients.
 */
export const executor: DepsParts['executor'] = (w): TaskExecutor => {
  const functions = w.config.workflows.taskExecutors;
  if (!functions) {
    throw new Error('workflows.taskExecutors (MAESTRO_TASK_EXECUTORS) is not set: a Lambda function runs actions in the executor functions it names');
  }
  const actions = w.use(catalog);
  return new LambdaTaskExecutor({
    client: w.client(lambdaClient),
    functions,
    classOf: (request) => executorClassOf(request.operation, actions.get(request.action, request.actionVersion)),
    packOf: (request) => actions.packOf(request.action).name,
    packFunctions: w.config.workflows.packExecutors,
  });
};

export const dr: DepsParts['dr'] = (w) =>
  lazyMembers<DrDeps>({
    repo: () => w.use(drRepository),
    tables: () => new DynamoTableData({ client: w.client(dynamodbRawClient) }),
    objects: () => new S3ObjectData({ client: w.client(s3Client) }),
    vault: () => {
      const bucket = w.config.state.artifactBucket;
      return bucket ? new S3Vault({ client: w.client(s3Client), bucket }) : unconfigured('state.artifactBucket (MAESTRO_ARTIFACT_BUCKET)');
    },
    signer: () => new KmsManifestSigner({ client: w.client(kmsClient), keyId: w.config.dr.manifestKeyId }),
    workflows: () =>
      new SfnDrWorkflows({
        client: w.client(sfnClient),
        backupStateMachineArn: w.config.workflows.drBackupStateMachineArn,
        restoreStateMachineArn: w.config.workflows.drRestoreStateMachineArn,
      }),
    targets: () => w.use(drTargets),
    clock: () => w.use(clock),
    newId: () => w.use(newId),
  });

export const outbox: DepsParts['outbox'] = (w) =>
  lazyMembers<OutboxDeps>({
    publisher: () => new EventBridgePublisher({ client: w.client(eventbridgeClient), eventBusName: w.config.outbox.eventBusName }),
    deadLetters: () => new DynamoDeadLetterStore({ client: documents(w), tableName: table(w) }),
    subscribers: () => ({ deliver: (messages) => deliverToSubscriptions(w.use(subscriptionDelivery), messages) }),
    clock: () => w.use(clock),
    sleep: () => sleep,
  });

export const subscriptions: DepsParts['subscriptions'] = (w) => w.use(subscriptionDeps);
