import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, DynamoDBBatchResponse } from 'aws-lambda';
import { clientOptions } from '../functions/adapters/aws-clients.ts';
import type { AwsClients } from '../functions/adapters/aws-clients.ts';
import { loadConfig } from '../functions/handlers/shared/config.ts';
import type { Config, ConfigOverrides } from '../functions/handlers/shared/config.ts';
import { createDeps } from '../functions/handlers/shared/deps.ts';
import type { HandlerDeps } from '../functions/handlers/shared/deps.ts';
import { depsViewOf } from '../functions/handlers/shared/compose-deps.ts';
import type { DepsParts } from '../functions/handlers/shared/compose-deps.ts';
import { familyOf, routeOf } from '../functions/handlers/api/routes.ts';
import { createIsolatedApply } from './sandbox/isolated-apply.ts';
import { localRemoteTransport } from './remote-actions/local-transport.ts';
import type { Action } from '../functions/core/actions/contract.ts';
import type { IsolatedApplyHost } from './sandbox/isolated-apply.ts';
import { sandboxedTransport } from './sandbox/sandboxed-transport.ts';
import { startDrScheduler } from './scheduler/dr-scheduler.ts';
import { startDriftScheduler } from './scheduler/drift-scheduler.ts';
import { startTriggerScheduling } from './scheduler/trigger-scheduling.ts';
import type { RunningTriggerScheduling } from './scheduler/trigger-scheduling.ts';
import { startApiGatewayServer } from './api/api-gateway-server.ts';
import { startEventBridgeEmulator } from './eventbridge/event-bridge-emulator.ts';
import type { RunningEventBridgeEmulator } from './eventbridge/event-bridge-emulator.ts';
import { startOutboxRelayLoop } from './outbox/outbox-relay-loop.ts';
import type { RunningOutboxRelay } from './outbox/outbox-relay-loop.ts';
import type { RunningApiGatewayServer } from './api/api-gateway-server.ts';
import { startDynamoDbLocal } from './dynamodb/dynamo-db-local.ts';
import { ensureStateTable, ensureTargetTable } from './dynamodb/tables.ts';
import { MAESTRO_KMS_KEYS, ensureKmsKey, startKmsEmulator } from './kms/kms-emulator.ts';
import { startApprovalSweeper } from './approval-sweeper.ts';
import { lambdaContext } from './lambda-context.ts';
import { handlerModuleResolver, readExecutorBundles } from './bundled-handlers.ts';
import { hostedExecutors } from './hosted-executors.ts';
import type { HandlerSource } from './bundled-handlers.ts';
import { freePort } from './net.ts';
import { configToEnvironment } from '../functions/core/config/environment-variables.ts';
import { WORKFLOWS, tasksOf } from '../functions/handlers/workflow-tasks.ts';
import type { WorkflowName } from '../functions/handlers/workflow-tasks.ts';
import { startS3Emulator } from './s3/s3-emulator.ts';
import { startTargetEmulators } from './targets/target-emulators.ts';
import { ensureDemoTargets } from './targets/demo-targets.ts';
import { startDevOidcProvider } from './oidc/dev-oidc-provider.ts';
import type { RunningDevOidcProvider } from './oidc/dev-oidc-provider.ts';
import { loadDefinition, startLocalStepFunctions } from './sfn/local-step-functions.ts';
import type { LocalLambda, LocalStepFunctionsOptions, RunningLocalStepFunctions } from './sfn/local-step-functions.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const ROOT = resolve(import.meta.dirname, '..');
/** The versioned artifact vault (signed audit heads; DR artifacts later). */
const ARTIFACT_BUCKET = 'maestro-artifacts';

export interface EmbeddedStackOptions {
  /** Where every emulator keeps its data. @default `.maestro` */
  dataDir?: string;
  /** The API's port; 0 picks a free one. @default 8080 */
  apiPort?: number;
  /** Crash tests only: objects (`bucket/key`) whose PutObject the S3 stand-in stores but never answers. */
  s3UnansweredWrites?: readonly string[];
  /** Use an already running DynamoDB (tests share one DynamoDB Local); else start DynamoDB Local in the data dir. */
  dynamodbUrl?: string;
  /** Prefix for Maestro's own tables, so several stacks can share one DynamoDB. @default '' */
  tablePrefix?: string;
  /** The bucket and table runs may act on. @default 'maestro-demo' for both */
  demoBucket?: string;
  demoTable?: string;
  /** How often the approval sweeper runs. @default 5000 ms (a minute in AWS) */
  approvalSweepMs?: number;
  /** Live progress of workflow executions. */
  onStateEvent?: LocalStepFunctionsOptions['onStateEvent'];
  /** Run the outbox relay (state table stream → the local EventBridge endpoint). @default true */
  outboxRelay?: boolean;
  /**
   * Where the Lambda handlers come from: the TypeScript sources, or the bundles of a synthesized cloud
   * assembly (what AWS runs; they read their configuration from the environment, as in Lambda).
   * @default 'sources'
   */
  handlers?: HandlerSource;
  /** The cloud assembly the bundles are read from, with `handlers: 'bundles'`. @default `cdk.out` of the repository */
  cdkOutDir?: string;
  /** Actions besides the built-ins (a test's fixture actions, remote ones included). @default none */
  extraActions?: readonly Action[];
  /** Start the development OpenID provider (local/oidc/) and trust its tokens. @default true */
  oidc?: boolean;
  /** The run templates recorded at start (each file a template; a changed one a new version). @default `templates/` of the repository */
  templatesDir?: string;
  /** How often the local scheduler checks the schedule triggers. @default 1000 ms */
  schedulerTickMs?: number;
}

export interface Endpoints {
  api: string;
  dynamodb: string;
  s3: string;
  stepfunctions: string;
  kms: string;
  eventbridge: string;
  /** The stand-ins of the services actions change: Lambda aliases, SSM parameters, CloudWatch alarms. */
  lambda: string;
  ssm: string;
  cloudwatch: string;
  /** The development OpenID provider's issuer URL (discovery at `<oidc>/.well-known/openid-configuration`). */
  oidc?: string;
}

export interface EmbeddedStack {
  endpoints: Endpoints;
  dataDir: string;
  stateTable: string;
  runStateMachineArn: string;
  demoBucket: string;
  demoTable: string;
  stepFunctions: RunningLocalStepFunctions;
  /** The local EventBridge endpoint the outbox relay publishes to (delivered events in `eventbridge.jsonl`). */
  eventBridge: RunningEventBridgeEmulator;
  outboxRelay?: RunningOutboxRelay;
  /** The schedule and event triggers' local scheduler and EventBridge rules. */
  triggers: RunningTriggerScheduling;
  /** The development OpenID provider, unless started with `oidc: false`. */
  oidc?: RunningDevOidcProvider;
  /** The configuration the hosted handlers run with (built once at start, or by `reconfigure`). */
  readonly config: Config;
  /** The deps the hosted handlers get. */
  readonly deps: HandlerDeps;
  /**
   * Rebuilds the configuration with `overrides` on top of the stack's own (a test declaring other DR
   * targets); the hosted handlers get the new deps from their next invocation. No argument: as at start.
   */
  reconfigure(overrides?: ConfigOverrides): void;
  /** What an SDK client outside the stack (a test, a CLI) needs in its environment to reach the stack's services. */
  readonly clientEnvironment: Readonly<Record<string, string>>;
  /** Each handler module (relative to local/) → the file it was loaded from (its source, or its bundle). */
  handlerModules: ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

/** A handler module of the workflows or the API: `createHandler(deps)` gives the Lambda handler. */
// biome-ignore lint/suspicious/noExplicitAny: each handler module types its own event; the stack passes payloads through.
type HandlerFactory = (deps: HandlerDeps) => (event: any, context: Context) => Promise<unknown>;

/**
 * The deps of a function that holds no signing grant in AWS (`MAESTRO_AUDIT_CHECKPOINTS=off` there):
 * the same ports, read through, with checkpoints off. A view, not a copy: a port a test replaces on
 * the stack's deps is the one this function uses too.
 */
function withoutCheckpoints(deps: HandlerDeps): HandlerDeps {
  const config = { ...deps.config, audit: { ...deps.config.audit, checkpoints: 'off' as const } };
  return new Proxy(deps, { get: (target, key) => (key === 'config' ? config : Reflect.get(target, key)) });
}

/**
 * Starts Maestro on one machine: DynamoDB Local, the S3 and KMS stand-ins, the Lambda, SSM and
 * CloudWatch stand-ins (with the deploy actions' demo function and alarm), the local Step Functions
 * endpoint running statemachines/run.asl.json with the Lambda handlers in-process, and the HTTP API.
 * The hosted handlers get one `Config` (the user's environment and maestro.config.yaml, under this
 * stack's endpoints and names) and the deps built from it; nothing is written into process.env but
 * Powertools' own defaults.
 */
export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const dataDir = resolve(options.dataDir ?? '.maestro');
  mkdirSync(dataDir, { recursive: true });
  const stateTable = `${options.tablePrefix ?? ''}maestro-state`;
  const demoBucket = options.demoBucket ?? 'maestro-demo';
  const demoTable = options.demoTable ?? 'maestro-demo';
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  };

  try {
    // Sources, or the bundles of a synthesized assembly (read first: a missing one fails before anything starts).
    const cdkOutDir = options.cdkOutDir ?? join(ROOT, 'cdk.out');
    const handlerModules = handlerModuleResolver(options.handlers ?? 'sources', cdkOutDir);
    // On bundles the run steps invoke the executors' bundles through the Lambda stand-in, as in AWS.
    const executors = options.handlers === 'bundles' ? hostedExecutors(readExecutorBundles(cdkOutDir)) : undefined;
    const sfnPort = await freePort();
    // The API's port is fixed before any handler runs: approval links (even a resumed run's) point at it.
    const apiPort = options.apiPort === 0 ? await freePort() : (options.apiPort ?? 8080);
    const sfnUrl = `http://127.0.0.1:${sfnPort}`;
    // The stand-ins do not depend on each other, so they start together (each one started is stopped
    // again if another fails). People sign in through a real OpenID provider; the console's sign-in
    // returns to the API.
    const oidcWanted = options.oidc ?? true;
    const [dynamodb, s3, kms, eventBridge, targetServices, oidc] = await startTogether(stoppers, [
      options.dynamodbUrl ? undefined : startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb') }),
      startS3Emulator({ dataDir: join(dataDir, 's3'), unansweredWrites: options.s3UnansweredWrites }),
      startKmsEmulator({ dataDir: join(dataDir, 'kms') }),
      startEventBridgeEmulator({ dataDir }),
      startTargetEmulators({ dataDir, region: REGION, accountId: ACCOUNT }),
      oidcWanted ? startDevOidcProvider({ dataDir: join(dataDir, 'oidc'), consoleRedirectUri: `http://127.0.0.1:${apiPort}/console/callback` }) : undefined,
    ] as const);
    const dynamodbUrl = options.dynamodbUrl ?? dynamodb!.url;
    const stateMachineArn = (workflow: WorkflowName) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${WORKFLOWS[workflow].stateMachineName}`;
    const runStateMachineArn = stateMachineArn('run');

    // Powertools reads its own settings from the environment (the logger is built at import).
    process.env.POWERTOOLS_SERVICE_NAME ??= 'maestro';
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    // EMF metric lines would interleave with the demo's progress; POWERTOOLS_METRICS_DISABLED=false shows them.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

    const endpoints = {
      dynamodb: dynamodbUrl,
      dynamodbStreams: dynamodbUrl,
      s3: s3.url,
      sfn: sfnUrl,
      kms: kms.url,
      eventbridge: eventBridge.url,
      ...targetServices.endpoints,
    };
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const stackValues: ConfigOverrides = {
      state: { table: stateTable, artifactBucket: ARTIFACT_BUCKET },
      workflows: {
        runStateMachineArn,
        drBackupStateMachineArn: stateMachineArn('dr-backup'),
        drRestoreStateMachineArn: stateMachineArn('dr-restore'),
        ...executors?.workflows,
      },
      // DR targets the user declared (MAESTRO_DR_TARGETS) stay; otherwise the demo target over these.
      targets: { demoTable, demoBucket },
      dr: { manifestKeyId: MAESTRO_KMS_KEYS.manifestSigning.alias },
      outbox: { eventBusName: 'maestro' },
      identity: { authMode: 'dev-tokens', ...(oidc ? { oidc: oidc.settings } : {}) },
      approvals: { notificationsFile: join(dataDir, 'notifications.jsonl'), publicUrl: `http://127.0.0.1:${apiPort}` },
      aws: { region: REGION, endpoints, s3ForcePathStyle: true, credentials },
    };
    // Every isolated apply ever built (reconfigure builds another): stop ends their warm sandbox processes.
    const sandboxes: IsolatedApplyHost[] = [];
    stoppers.push(async () => {
      await Promise.all(sandboxes.map((sandbox) => sandbox.close()));
    });
    const build = (patch: ConfigOverrides = {}) => {
      // A bad maestro.config.yaml, variable or policy refuses to start, naming the key or the policy.
      const config = loadConfig(process.env, {
        defaults: { policy: { dir: join(ROOT, 'policies') } },
        defaultFile: join(ROOT, 'maestro.config.yaml'),
        overrides: mergeOverrides(stackValues, patch),
      });
      // http.fetch sends each request from a sandbox process, and every apply that reaches the network
      // runs in a child process under Node's permission model.
      // Remote actions run as local commands or loopback HTTP endpoints (local/remote-actions/).
      const applyIsolated = createIsolatedApply(config);
      sandboxes.push(applyIsolated);
      const built = createDeps(config, {
        transport: sandboxedTransport,
        applyIsolated,
        remote: localRemoteTransport(config),
        extraActions: options.extraActions,
      });
      // Ports are built on first use; the stack builds the policy engine now, so a bad policy refuses to start.
      void built.policy;
      return built;
    };
    let deps = build();
    stoppers.push(async () => deps.clients.destroy());
    /** The hosted handlers by function name, built from the current deps on first use. */
    const hosted = new Map<string, ReturnType<HandlerFactory>>();
    const host =
      (factory: HandlerFactory, name: string, timeoutMs?: number, signs = true, parts?: Partial<DepsParts>, owner = name) =>
      (payload: unknown) => {
        let handler = hosted.get(name);
        if (!handler) {
          const given = signs ? deps : withoutCheckpoints(deps);
          hosted.set(name, (handler = factory(parts ? depsViewOf(given, parts, owner) : given)));
        }
        return handler(payload, lambdaContext(name, timeoutMs));
      };
    const reconfigure = (patch?: ConfigOverrides) => {
      const previous = deps;
      deps = build(patch);
      hosted.clear();
      previous.clients.destroy();
    };
    await Promise.all([provisionResources(deps.clients, { stateTable, demoBucket, demoTable }), ensureDemoTargets(deps.clients)]);
    const credentialVariables = { AWS_REGION: REGION, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
    if (options.handlers === 'bundles') {
      // A bundle carries its own copy of every module, so it cannot take these deps: it reads its
      // configuration from the environment, exactly as in Lambda (configToEnvironment is the loader's inverse).
      Object.assign(process.env, credentialVariables, configToEnvironment(deps.config));
      await executors?.host(targetServices.hostFunction);
    }
    /** A handler module (relative to local/): its source's `createHandler` with this stack's deps, or its bundle's `handler`. */
    const hostModule = async (module: string, name: string, timeoutMs?: number, signs = true): Promise<(payload: unknown) => Promise<unknown>> => {
      const target = handlerModules.resolve(module);
      if (target === module) {
        // An entry that names its parts (handlerParts) gets only those here too, as in its Lambda function.
        const { createHandler, handlerParts } = (await import(module)) as { createHandler: HandlerFactory; handlerParts?: Partial<DepsParts> };
        return host(createHandler, name, timeoutMs, signs, handlerParts, module.replace(/^\.\.\//, ''));
      }
      const { handler } = (await import(target)) as { handler: (event: unknown, context: Context) => Promise<unknown> };
      return (payload) => handler(payload, lambdaContext(name, timeoutMs));
    };

    // Every workflow task's handler, hosted in-process under its function's ARN (functions/handlers/workflow-tasks.ts).
    const lambdas: Record<string, LocalLambda> = {};
    const stateMachines = [];
    for (const workflow of Object.keys(WORKFLOWS) as WorkflowName[]) {
      const substitutions: Record<string, string> = {};
      for (const task of tasksOf(workflow)) {
        const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${task.functionName}`;
        substitutions[task.placeholder] = arn;
        // As in AWS (lib/maestro-stack.ts): only the steps with the signing right sign audit checkpoints.
        const signs = task.family !== 'run' || task.rights.includes('sealAuditHeads');
        lambdas[arn] = await hostModule(`../${task.entry}`, task.functionName, undefined, signs);
      }
      stateMachines.push({ name: WORKFLOWS[workflow].stateMachineName, definition: loadDefinition(join(ROOT, WORKFLOWS[workflow].file), substitutions) });
    }
    const stepFunctions = await startLocalStepFunctions({
      dataDir: join(dataDir, 'stepfunctions'),
      stateMachines,
      lambdas,
      port: sfnPort,
      region: REGION,
      accountId: ACCOUNT,
      onStateEvent: options.onStateEvent,
    });
    stoppers.push(() => stepFunctions.stop());

    // The API holds no signing grant in AWS either: its approval decisions are anchored by the next signing step.
    // Two functions, as API Gateway integrates them (lib/maestro-api.ts): each route to its family's.
    const apiHandlers = {
      runs: await hostModule('../functions/handlers/api.ts', 'maestro-api', 29_000, false),
      ops: await hostModule('../functions/handlers/ops-api.ts', 'maestro-ops-api', 29_000, false),
    };
    const familyOfEvent = (event: APIGatewayProxyEvent) => {
      try {
        return familyOf(routeOf(event));
      } catch {
        return 'runs'; // which answers 404/405 for it
      }
    };
    const api: RunningApiGatewayServer = await startApiGatewayServer({
      handler: (event) => apiHandlers[familyOfEvent(event)](event) as Promise<APIGatewayProxyResult>,
      context: () => lambdaContext('maestro-api', 29_000),
      port: apiPort,
    });
    stoppers.push(() => api.stop());

    // The DR targets' schedules, as EventBridge Scheduler runs them in AWS (lib/dr-workflows.ts).
    const scheduledDr = await hostModule('../functions/handlers/dr/scheduled.ts', 'maestro-dr-scheduled');
    const drScheduler = startDrScheduler({
      targets: deps.dr.targets,
      invoke: (request) => scheduledDr(request) as Promise<{ jobId: string | null }>,
      onError: (error) => console.error(`maestro: scheduled DR job: ${(error as Error).message}`),
    });
    stoppers.push(async () => drScheduler.stop());

    // The environments' drift sweeps (environments.<env>.drift.schedule), as lib/drift-schedules.ts schedules them in AWS.
    if (Object.values(deps.guardrails.environments).some((environment) => environment.drift)) {
      const scheduledDrift = await hostModule('../functions/handlers/drift/scheduled.ts', 'maestro-drift-sweep');
      const driftScheduler = startDriftScheduler({
        environments: deps.guardrails.environments,
        invoke: (request) => scheduledDrift(request),
        onError: (error) => console.error(`maestro: scheduled drift sweep: ${(error as Error).message}`),
      });
      stoppers.push(async () => driftScheduler.stop());
    }
    // Run templates from the folder; schedule triggers on the local scheduler, event triggers as local EventBridge rules.
    const fireTrigger = await hostModule('../functions/handlers/triggers/fire.ts', 'maestro-triggers');
    const triggers = await startTriggerScheduling({
      deps: () => deps,
      fire: fireTrigger,
      eventBridge,
      templatesDir: options.templatesDir ?? join(ROOT, 'templates'),
      tickMs: options.schedulerTickMs,
      onError: (error) => console.error(`maestro: trigger: ${(error as Error).message}`),
    });
    stoppers.push(async () => triggers.stop());

    // The approval sweeper (reminders at half time, EXPIRED at the deadline): every minute in AWS.
    const sweepApprovals = await hostModule('../functions/handlers/approvals/sweep.ts', 'maestro-approval-sweeper');
    const approvalSweeper = startApprovalSweeper({
      intervalMs: options.approvalSweepMs ?? 5_000,
      sweep: () => sweepApprovals({}) as ReturnType<Parameters<typeof startApprovalSweeper>[0]['sweep']>,
    });
    stoppers.push(() => approvalSweeper.stop());

    // The outbox relay: the Lambda that reads the state table's stream in AWS, fed here by a poller.
    let outboxRelay: RunningOutboxRelay | undefined;
    let lastRelayError: string | undefined;
    if (options.outboxRelay ?? true) {
      const relayHandler = await hostModule('../functions/handlers/outbox/relay.ts', 'maestro-outbox-relay');
      const relay = await startOutboxRelayLoop({
        tableName: stateTable,
        checkpointFile: join(dataDir, 'outbox', 'checkpoint.json'),
        clientOptions: { dynamodb: clientOptions(deps.config.aws, 'dynamodb'), streams: clientOptions(deps.config.aws, 'dynamodbStreams') },
        handler: (event) => relayHandler(event) as Promise<DynamoDBBatchResponse>,
        onError: (error) => {
          const message = `maestro: outbox relay: ${(error as Error).message} (retrying)`;
          if (message !== lastRelayError) console.error(message);
          lastRelayError = message;
        },
      });
      outboxRelay = relay;
      stoppers.push(() => relay.stop());
    }

    const served: Endpoints = {
      api: api.url,
      dynamodb: dynamodbUrl,
      s3: s3.url,
      stepfunctions: sfnUrl,
      kms: kms.url,
      eventbridge: eventBridge.url,
      ...targetServices.endpoints,
      ...(oidc ? { oidc: oidc.issuer } : {}),
    };
    writeFileSync(join(dataDir, 'endpoints.json'), `${JSON.stringify(served, null, 2)}\n`);
    const clientEnvironment = {
      ...credentialVariables,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbUrl,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamodbUrl,
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_ENDPOINT_URL_SFN: sfnUrl,
      AWS_ENDPOINT_URL_KMS: kms.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url,
      AWS_ENDPOINT_URL_LAMBDA: targetServices.endpoints.lambda,
      AWS_ENDPOINT_URL_SSM: targetServices.endpoints.ssm,
      AWS_ENDPOINT_URL_CLOUDWATCH: targetServices.endpoints.cloudwatch,
    };
    return {
      endpoints: served,
      dataDir,
      stateTable,
      runStateMachineArn,
      demoBucket,
      demoTable,
      stepFunctions,
      eventBridge,
      outboxRelay,
      triggers,
      oidc,
      get config() {
        return deps.config;
      },
      get deps() {
        return deps;
      },
      reconfigure,
      clientEnvironment,
      handlerModules: handlerModules.loaded,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function provisionResources(clients: AwsClients, input: { stateTable: string; demoBucket: string; demoTable: string }) {
  const { dynamodbRaw: dynamodb, s3, kms } = clients;
  // One chain per service, the services side by side (nothing here depends on another service).
  const keys = async () => {
    // The keys later workflows sign with: backup manifests (ECDSA P-256) and approval links (HMAC).
    await ensureKmsKey(kms, MAESTRO_KMS_KEYS.manifestSigning);
    await ensureKmsKey(kms, MAESTRO_KMS_KEYS.approvalLinks);
  };
  const tables = () => Promise.all([ensureStateTable(dynamodb, input.stateTable), ensureTargetTable(dynamodb, input.demoTable)]);
  const buckets = async () => {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: input.demoBucket }));
    } catch {
      await s3.send(new CreateBucketCommand({ Bucket: input.demoBucket }));
    }
    await s3.send(new PutBucketVersioningCommand({ Bucket: input.demoBucket, VersioningConfiguration: { Status: 'Enabled' } }));
    for (const bucket of [ARTIFACT_BUCKET]) {
      await s3.send(new HeadBucketCommand({ Bucket: bucket })).catch(() => s3.send(new CreateBucketCommand({ Bucket: bucket })));
      await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    }
  };
  await Promise.all([keys(), tables(), buckets()]);
}

/**
 * Starts independent services side by side (an `undefined` entry is a service not wanted). Each one
 * that started is registered in `stoppers` whatever the others did; the first failure is thrown.
 */
async function startTogether<T extends readonly ({ stop(): Promise<void> } | undefined)[]>(
  stoppers: (() => Promise<void>)[],
  starting: { readonly [K in keyof T]: Promise<T[K]> | T[K] },
): Promise<T> {
  const settled = await Promise.allSettled(starting);
  for (const result of settled) if (result.status === 'fulfilled' && result.value) stoppers.push(() => result.value!.stop());
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** The stack's own values with a caller's patch on top, section by section. */
function mergeOverrides(base: ConfigOverrides, patch: ConfigOverrides): ConfigOverrides {
  const merged: Record<string, unknown> = { ...base };
  for (const [section, values] of Object.entries(patch)) merged[section] = { ...(merged[section] as object), ...(values as object) };
  return merged as ConfigOverrides;
}
