import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AuditVault } from '../../adapters/audit-vault.ts';
import { createAwsClients } from '../../adapters/aws-clients.ts';
import type { AwsClients } from '../../adapters/aws-clients.ts';
import { DynamoControlStore } from '../../adapters/dynamo-control-store.ts';
import { DynamoDeadLetterStore } from '../../adapters/dynamo-dead-letter-store.ts';
import { DynamoDrRepository } from '../../adapters/dynamo-dr-repository.ts';
import { DynamoDriftStore } from '../../adapters/dynamo-drift-store.ts';
import type { DriftStore } from '../../core/drift/ports.ts';
import { DynamoSubscriptionStore, withCachedList } from '../../adapters/dynamo-subscription-store.ts';
import { WebhookSender } from '../../adapters/webhook-sender.ts';
import { systemResolver } from '../../adapters/dns-resolver.ts';
import { egressPolicyFor } from '../../core/egress/policy.ts';
import { deliverToSubscriptions } from '../../core/subscriptions/deliver-to-subscriptions.ts';
import type { SubscriptionDeps } from '../../core/subscriptions/ports.ts';
import { DynamoApplyReads } from '../../adapters/dynamo-apply-reads.ts';
import { DynamoItemStore } from '../../adapters/dynamo-item-store.ts';
import { DynamoLinkLedger } from '../../adapters/dynamo-link-ledger.ts';
import { DynamoLockStore } from '../../adapters/dynamo-lock-store.ts';
import { DynamoRateLimiter } from '../../adapters/dynamo-rate-limiter.ts';
import { DynamoRunRepository } from '../../adapters/dynamo-run-repository.ts';
import { DynamoTemplateStore } from '../../adapters/dynamo-template-store.ts';
import { DynamoTriggerStore } from '../../adapters/dynamo-trigger-store.ts';
import type { TriggerDeps } from '../../core/triggers/fire-trigger.ts';
import { DynamoTableData } from '../../adapters/dynamo-table-data.ts';
import { EventBridgePublisher } from '../../adapters/event-bridge-publisher.ts';
import { KmsLinkSigner } from '../../adapters/kms-link-signer.ts';
import { KmsManifestSigner } from '../../adapters/kms-manifest-signer.ts';
import { KmsSigner } from '../../adapters/kms-signer.ts';
import { EventBridgeSlackNotifier, FanOutNotifier, RecordingNotifier, SesEmailNotifier, SlackWebhookNotifier } from '../../adapters/notifiers.ts';
import { QuiesceWriteGuard } from '../../adapters/quiesce-write-guard.ts';
import { S3ObjectData } from '../../adapters/s3-object-data.ts';
import { S3ObjectStore } from '../../adapters/s3-object-store.ts';
import { S3Vault } from '../../adapters/s3-vault.ts';
import { SfnDrWorkflows } from '../../adapters/sfn-dr-workflows.ts';
import { SfnWorkflowEngine } from '../../adapters/sfn-workflow-engine.ts';
import { OidcTokenVerifier } from '../../adapters/oidc-token-verifier.ts';
import type { TokenVerifier } from '../../core/identity/oidc-principal.ts';
import type { Notifier } from '../../core/approvals/ports.ts';
import type { AuditSealing } from '../../core/audit/ports.ts';
import { SourceLimiter } from '../../core/approvals/source-limiter.ts';
import type { Config } from '../../core/config/schema.ts';
import type { DrDeps } from '../../core/dr/ports.ts';
import { createRestoreGate } from '../../core/dr/restore-approval.ts';
import { configuredDrTargets } from '../../core/dr/targets.ts';
import type { OutboxDeps } from '../../core/outbox/ports.ts';
import { PolicyEngine } from '../../core/policy/policy-engine.ts';
import type { RunDeps } from '../../core/runs/deps.ts';
import { executorClassOf } from '../../core/runs/task-executor.ts';
import type { ExecutorDeps, TaskExecutor } from '../../core/runs/task-executor.ts';
import { LambdaTaskExecutor } from '../../adapters/lambda-task-executor.ts';
import { loadCatalog } from '../../packs/loader.ts';
import { createExecutorDeps, inProcessExecutor } from '../run/executor-deps.ts';
import type { ExecutorHost } from '../run/executor-deps.ts';
import { egressRuntimeOf } from './egress.ts';
import type { EgressRuntime } from './egress.ts';

/** What every handler and API operation gets: the run workflow's deps, and DR's, the outbox's and the audit's. */
export interface HandlerDeps extends RunDeps, TriggerDeps {
  config: Config;
  clients: AwsClients;
  /** Egress guard, licenses, budgets and breaker (http.fetch, POST /egress/check). */
  egress: EgressRuntime;
  dr: DrDeps;
  outbox: OutboxDeps;
  /** The signer and store of audit heads; undefined without an artifact vault (verify then says so). */
  auditSealing: AuditSealing | undefined;
  /** Refused links that did not verify: one log line and one metric per source, at most 5 at once and 6 a minute (per process). */
  unverifiedLinks: SourceLimiter;
  /** Verifies OIDC bearer tokens; undefined when identity.oidc is not configured. */
  tokenVerifier: TokenVerifier | undefined;
  /** Drift findings (functions/core/drift/). */
  drift: DriftStore;
  /** Subscriptions and their signed deliveries (functions/core/subscriptions/). */
  subscriptions: SubscriptionDeps;
}

/** What the host injects besides configuration (the embedded stack's sandbox); unset, everything runs in-process. */
export type HostServices = ExecutorHost;

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

/** The adapters several members of HandlerDeps share (built once, on first use). */
interface SharedPorts {
  objects: S3ObjectStore;
  items: DynamoItemStore;
  drRepository: DynamoDrRepository;
  writeGuard: QuiesceWriteGuard;
  engine: SfnWorkflowEngine;
  linkSigner: KmsLinkSigner;
  targets: ReturnType<typeof configuredDrTargets>;
  restoreGate: ReturnType<typeof createRestoreGate>;
  egress: EgressRuntime;
}

/**
 * An object whose members are built on first read and then kept (memoized getters, enumerable, so a
 * spread or Object.keys still sees every member): a port that a step never touches is never built.
 */
function lazyMembers<T extends object>(factories: { [Key in keyof T]: () => T[Key] }): T {
  const object = {} as T;
  for (const key of Object.keys(factories) as (keyof T)[]) {
    let built = false;
    let value: T[keyof T];
    Object.defineProperty(object, key, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (!built) {
          value = factories[key]();
          built = true;
        }
        return value;
      },
      // Tests and hosts replace single ports (`deps.notifier = …`): a write wins over the factory.
      set: (next: T[keyof T]) => {
        value = next;
        built = true;
      },
    });
  }
  return object;
}

/**
 * The composition root: every SDK client and every adapter, from the configuration and what the
 * host injects, each built on first use and kept (so a function pays only for the ports its step
 * touches: no Cedar in a function that never decides). Lambda handlers build it once per container
 * (lambda-deps.ts); the embedded stack builds it once per start and hands it to the handlers it hosts.
 */
export function createDeps(config: Config, host: HostServices = {}): HandlerDeps {
  const clients = createAwsClients(config.aws);
  const table = config.state.table;
  const bucket = config.state.artifactBucket;
  const clock = () => new Date();
  const newId = () => randomUUID();
  // The built-ins and the configured packs, verified against their pins: a bad pack refuses start-up.
  const catalog = loadCatalog(config, undefined, host.extraActions);
  const shared: SharedPorts = lazyMembers<SharedPorts>({
    objects: () => new S3ObjectStore(clients.s3),
    items: () => new DynamoItemStore(clients.dynamodb),
    drRepository: () => new DynamoDrRepository({ client: clients.dynamodb, tableName: table }),
    writeGuard: () => new QuiesceWriteGuard({ repo: shared.drRepository }),
    engine: () => new SfnWorkflowEngine({ client: clients.sfn, runStateMachineArn: config.workflows.runStateMachineArn }),
    linkSigner: () => new KmsLinkSigner({ client: clients.kms, keyId: config.approvals.linkKey }),
    targets: () => configuredDrTargets(config),
    restoreGate: () => createRestoreGate({ repo: shared.drRepository, engine: shared.engine, linkSigner: shared.linkSigner, targets: shared.targets }),
    egress: () => egressRuntimeOf(config, host.transport),
  });
  const dr = lazyMembers<DrDeps>({
    repo: () => shared.drRepository,
    tables: () => new DynamoTableData({ client: clients.dynamodbRaw }),
    objects: () => new S3ObjectData({ client: clients.s3 }),
    vault: () => (bucket ? new S3Vault({ client: clients.s3, bucket }) : unconfigured('state.artifactBucket (MAESTRO_ARTIFACT_BUCKET)')),
    signer: () => new KmsManifestSigner({ client: clients.kms, keyId: config.dr.manifestKeyId }),
    workflows: () =>
      new SfnDrWorkflows({
        client: clients.sfn,
        backupStateMachineArn: config.workflows.drBackupStateMachineArn,
        restoreStateMachineArn: config.workflows.drRestoreStateMachineArn,
      }),
    targets: () => shared.targets,
    clock: () => clock,
    newId: () => newId,
  });
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const runs = lazyMembers<{ repository: DynamoRunRepository }>({
    repository: () => new DynamoRunRepository({ client: clients.dynamodb, tableName: table }),
  });
  const subscriptions = lazyMembers<{ deps: SubscriptionDeps; delivery: SubscriptionDeps }>({
    deps: () => createSubscriptionDeps(config, clients, runs.repository, { clock, sleep, newId }),
    // The relay reads the subscription list once per batch: through a short cache (see withCachedList).
    delivery: (): SubscriptionDeps => ({ ...subscriptions.deps, subscriptions: withCachedList(subscriptions.deps.subscriptions) }),
  });
  return lazyMembers<HandlerDeps>({
    config: () => config,
    clients: () => clients,
    egress: () => shared.egress,
    dr: () => dr,
    outbox: () =>
      lazyMembers<OutboxDeps>({
        publisher: () => new EventBridgePublisher({ client: clients.eventbridge, eventBusName: config.outbox.eventBusName }),
        deadLetters: () => new DynamoDeadLetterStore({ client: clients.dynamodb, tableName: table }),
        subscribers: () => ({ deliver: (messages) => deliverToSubscriptions(subscriptions.delivery, messages) }),
        clock: () => clock,
        sleep: () => sleep,
      }),
    subscriptions: () => subscriptions.deps,
    drift: () => new DynamoDriftStore({ client: clients.dynamodb, tableName: table }),
    unverifiedLinks: () => new SourceLimiter({ burst: 5, perMinute: 6 }),
    tokenVerifier: () => (config.identity.oidc ? new OidcTokenVerifier(config.identity.oidc) : undefined),
    auditSealing: () =>
      bucket
        ? { signer: new KmsSigner({ client: clients.kms, keyId: config.audit.signingKey }), heads: new AuditVault({ client: clients.s3, bucket }) }
        : undefined,
    runs: () => runs.repository,
    templates: () => new DynamoTemplateStore({ client: clients.dynamodb, tableName: table }),
    triggers: () => new DynamoTriggerStore({ client: clients.dynamodb, tableName: table }),
    configTriggers: () => config.triggers,
    engine: () => shared.engine,
    catalog: () => catalog,
    guardrails: () => config.guardrails,
    policy: () => loadPolicyEngine(config.policy.dir),
    control: () => new DynamoControlStore({ client: clients.dynamodb, tableName: table }),
    locks: () => new DynamoLockStore({ client: clients.dynamodb, tableName: table }),
    rateLimiter: () => new DynamoRateLimiter({ client: clients.dynamodb, tableName: table }),
    // Refused to every action whatever maestro.config.yaml declares (core/safety/managed-resources.ts).
    ownResources: () => ({
      stateTable: table,
      artifactBucket: config.state.artifactBucket,
      names: [config.approvals.linkKey, config.dr.manifestKeyId, config.audit.signingKey, config.outbox.eventBusName].filter((name) => name !== 'default'),
    }),
    linkSigner: () => shared.linkSigner,
    linkLedger: () => new DynamoLinkLedger({ client: clients.dynamodb, tableName: table }),
    notifier: () => createNotifier(config, clients),
    publicUrl: () => config.approvals.publicUrl,
    actionContext: () => (run, task) => ({
      objects: shared.objects,
      items: shared.items,
      runId: run.id,
      taskIndex: task.index,
      idempotencyKey: task.idempotencyKey,
      egress: shared.egress.forEnvironment(run.environment),
      writeGuard: shared.writeGuard,
      restoreGate: shared.restoreGate,
    }),
    executor: () => createTaskExecutor(config, clients, catalog, host),
    quiesceFlags: () => () => shared.drRepository.listQuiesceFlags(),
    applyReads: () => new DynamoApplyReads({ client: clients.dynamodb, tableName: table, quiesceTargets: shared.targets.map((target) => target.name) }),
    clock: () => clock,
    newId: () => newId,
  });
}

/** Subscriptions: their store, the guarded sender, and one dead-letter store per subscription. */
function createSubscriptionDeps(
  config: Config,
  clients: AwsClients,
  runs: DynamoRunRepository,
  base: Pick<SubscriptionDeps, 'clock' | 'sleep' | 'newId'>,
): SubscriptionDeps {
  const destinations = egressPolicyFor({ subscriptions: config.subscriptions.destinations }, 'subscriptions', { maxRedirects: 0 });
  const resolve = systemResolver(config.egress.staticHosts);
  return {
    ...base,
    subscriptions: new DynamoSubscriptionStore({ client: clients.dynamodb, tableName: config.state.table }),
    sender: new WebhookSender({ policy: destinations, resolve }),
    deadLettersFor: (id) =>
      new DynamoDeadLetterStore({
        client: clients.dynamodb,
        tableName: config.state.table,
        keyPrefix: `SUBDLQ#${id}#`,
        indexPk: `SUBSCRIPTION_DEAD_LETTERS#${id}`,
      }),
    destinations,
    resolve,
    environmentOf: async (runId) => (await runs.get(runId))?.environment,
  };
}

/**
 * Where actions run: in AWS, the executor functions (their roles hold the managed targets only); in
 * the embedded stack, this process with the executors' own target-only dependencies.
 */
function createTaskExecutor(config: Config, clients: AwsClients, catalog: RunDeps['catalog'], host: HostServices): TaskExecutor {
  const functions = config.workflows.taskExecutors;
  if (functions) {
    return new LambdaTaskExecutor({
      client: clients.lambda,
      functions,
      classOf: (request) => executorClassOf(request.operation, catalog.get(request.action, request.actionVersion)),
      packOf: (request) => catalog.packOf(request.action).name,
      packFunctions: config.workflows.packExecutors,
    });
  }
  let executorDeps: ExecutorDeps | undefined;
  return inProcessExecutor(() => (executorDeps ??= createExecutorDeps(config, host)));
}

/** Slack and SES where configured; the recording sink where a file is given (the embedded stack). */
function createNotifier(config: Config, clients: AwsClients): Notifier {
  const { notificationsFile, slackWebhookUrl, slackEventBus, sesFrom } = config.approvals;
  return new FanOutNotifier([
    ...(notificationsFile ? [new RecordingNotifier(notificationsFile)] : []),
    ...(slackWebhookUrl ? [new SlackWebhookNotifier(slackWebhookUrl)] : []),
    ...(slackEventBus ? [new EventBridgeSlackNotifier({ eventBusName: slackEventBus, client: clients.eventbridge })] : []),
    ...(sesFrom ? [new SesEmailNotifier({ from: sesFrom, client: clients.sesv2 })] : []),
  ]);
}
