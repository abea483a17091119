import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { resetHandlerDeps, useIsolatedApply } from '../functions/handlers/shared/deps.ts';
import { useEgressTransport } from '../functions/handlers/shared/egress.ts';
import { isolatedApply } from './sandbox/isolated-apply.ts';
import { sandboxedTransport } from './sandbox/sandboxed-transport.ts';
import { resetDrDeps } from '../functions/handlers/dr/deps.ts';
import { loadDrTargets } from '../functions/core/dr/targets.ts';
import { startDrScheduler } from './scheduler/dr-scheduler.ts';
import { loadGuardrails, loadPolicyEngine } from '../functions/handlers/shared/guardrails.ts';
import { startApiGatewayServer } from './api/api-gateway-server.ts';
import { startEventBridgeEmulator } from './eventbridge/event-bridge-emulator.ts';
import type { RunningEventBridgeEmulator } from './eventbridge/event-bridge-emulator.ts';
import { startOutboxRelayLoop } from './outbox/outbox-relay-loop.ts';
import type { RunningOutboxRelay } from './outbox/outbox-relay-loop.ts';
import type { RunningApiGatewayServer } from './api/api-gateway-server.ts';
import { startDynamoDbLocal } from './dynamodb/dynamo-db-local.ts';
import type { RunningDynamoDbLocal } from './dynamodb/dynamo-db-local.ts';
import { ensureStateTable, ensureTargetTable } from './dynamodb/tables.ts';
import { MAESTRO_KMS_KEYS, ensureKmsKey, startKmsEmulator } from './kms/kms-emulator.ts';
import type { RunningKmsEmulator } from './kms/kms-emulator.ts';
import { startApprovalSweeper } from './approval-sweeper.ts';
import { lambdaContext } from './lambda-context.ts';
import { handlerModuleResolver } from './bundled-handlers.ts';
import type { HandlerSource } from './bundled-handlers.ts';
import { freePort } from './net.ts';
import { startS3Emulator } from './s3/s3-emulator.ts';
import type { RunningS3Emulator } from './s3/s3-emulator.ts';
import { loadDefinition, startLocalStepFunctions } from './sfn/local-step-functions.ts';
import type { LocalLambda, LocalStepFunctionsOptions, RunningLocalStepFunctions } from './sfn/local-step-functions.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const ROOT = resolve(import.meta.dirname, '..');
const RUN_STATE_MACHINE = 'maestro-run';
/** The versioned artifact vault (signed audit heads; DR artifacts later). */
const ARTIFACT_BUCKET = 'maestro-artifacts';

/** The DR workflows (statemachines/dr-*.asl.json): state machine name → ASL file and its functions (lib/dr-workflows.ts in CDK). */
const DR_WORKFLOWS = {
  'maestro-dr-backup': {
    file: 'statemachines/dr-backup.asl.json',
    functions: {
      QuiesceFunctionArn: { name: 'maestro-dr-quiesce', module: '../functions/handlers/dr/quiesce.ts' },
      SnapshotFunctionArn: { name: 'maestro-dr-snapshot', module: '../functions/handlers/dr/snapshot.ts' },
      UnquiesceFunctionArn: { name: 'maestro-dr-unquiesce', module: '../functions/handlers/dr/unquiesce.ts' },
      SignManifestFunctionArn: { name: 'maestro-dr-sign-manifest', module: '../functions/handlers/dr/sign-manifest.ts' },
      FinalizeFunctionArn: { name: 'maestro-dr-finalize', module: '../functions/handlers/dr/finalize.ts' },
    },
  },
  'maestro-dr-restore': {
    file: 'statemachines/dr-restore.asl.json',
    functions: {
      StageFunctionArn: { name: 'maestro-dr-stage', module: '../functions/handlers/dr/stage.ts' },
      ApplyFunctionArn: { name: 'maestro-dr-apply', module: '../functions/handlers/dr/apply.ts' },
      ValidateFunctionArn: { name: 'maestro-dr-validate', module: '../functions/handlers/dr/validate.ts' },
      AwaitApprovalFunctionArn: { name: 'maestro-dr-await-approval', module: '../functions/handlers/dr/await-approval.ts' },
      FlipPointerFunctionArn: { name: 'maestro-dr-flip-pointer', module: '../functions/handlers/dr/flip-pointer.ts' },
      RecordEvidenceFunctionArn: { name: 'maestro-dr-record-evidence', module: '../functions/handlers/dr/record-evidence.ts' },
      DiscardCopyFunctionArn: { name: 'maestro-dr-discard-copy', module: '../functions/handlers/dr/discard-copy.ts' },
      FinalizeFunctionArn: { name: 'maestro-dr-finalize', module: '../functions/handlers/dr/finalize.ts' },
    },
  },
} as const;
/** DR targets the user declared before start; otherwise the demo target over this stack's demo table and bucket. */
const USER_DR_TARGETS = process.env.MAESTRO_DR_TARGETS;

/** The run workflow's functions: ASL substitution name → handler module (the Lambda entry points in CDK). */
const RUN_FUNCTIONS = {
  AdmitFunctionArn: { name: 'maestro-run-admit', module: '../functions/handlers/run/admit.ts' },
  PlanFunctionArn: { name: 'maestro-run-plan', module: '../functions/handlers/run/plan.ts' },
  RequestApprovalFunctionArn: { name: 'maestro-run-request-approval', module: '../functions/handlers/run/request-approval.ts' },
  ApplyTaskFunctionArn: { name: 'maestro-run-apply-task', module: '../functions/handlers/run/apply-task.ts' },
  // The same handler; in AWS its own function on the egress path (lib/run-workflow.ts).
  ApplyInternetTaskFunctionArn: { name: 'maestro-run-apply-internet-task', module: '../functions/handlers/run/apply-task.ts' },
  VerifyFunctionArn: { name: 'maestro-run-verify', module: '../functions/handlers/run/verify.ts' },
  RollBackFunctionArn: { name: 'maestro-run-roll-back', module: '../functions/handlers/run/roll-back.ts' },
  FinalizeFunctionArn: { name: 'maestro-run-finalize', module: '../functions/handlers/run/finalize.ts' },
} as const;

export interface EmbeddedStackOptions {
  /** Where every emulator keeps its data. @default `.maestro` */
  dataDir?: string;
  /** The API's port; 0 picks a free one. @default 8080 */
  apiPort?: number;
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
}

export interface Endpoints {
  api: string;
  dynamodb: string;
  s3: string;
  stepfunctions: string;
  kms: string;
  eventbridge: string;
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
  /** Each handler module (as named in this file) → the file it was loaded from (its source, or its bundle). */
  handlerModules: ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts Maestro on one machine: DynamoDB Local, the S3 and KMS stand-ins, the local Step Functions
 * endpoint running statemachines/run.asl.json with the Lambda handlers in-process, and the HTTP API.
 * Handlers reach every service through the real SDK clients, pointed here by AWS_ENDPOINT_URL_*.
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
    const handlerModules = handlerModuleResolver(options.handlers ?? 'sources', options.cdkOutDir ?? join(ROOT, 'cdk.out'));
    const load = (module: string) => import(handlerModules.resolve(module));
    let dynamodb: RunningDynamoDbLocal | undefined;
    if (!options.dynamodbUrl) {
      dynamodb = await startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb') });
      stoppers.push(() => dynamodb!.stop());
    }
    const dynamodbUrl = options.dynamodbUrl ?? dynamodb!.url;
    const s3: RunningS3Emulator = await startS3Emulator({ dataDir: join(dataDir, 's3') });
    stoppers.push(() => s3.stop());
    const kms: RunningKmsEmulator = await startKmsEmulator({ dataDir: join(dataDir, 'kms') });
    stoppers.push(() => kms.stop());
    const eventBridge = await startEventBridgeEmulator({ dataDir });
    stoppers.push(() => eventBridge.stop());
    const sfnPort = await freePort();
    // The API's port is fixed before any handler runs: approval links (even a resumed run's) point at it.
    const apiPort = options.apiPort === 0 ? await freePort() : (options.apiPort ?? 8080);
    const sfnUrl = `http://127.0.0.1:${sfnPort}`;
    const runStateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${RUN_STATE_MACHINE}`;

    // The handlers read their configuration from the environment, as they do in Lambda.
    Object.assign(process.env, {
      AWS_REGION: process.env.AWS_REGION ?? REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbUrl,
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_ENDPOINT_URL_SFN: sfnUrl,
      AWS_ENDPOINT_URL_KMS: kms.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamodbUrl,
      MAESTRO_EVENT_BUS_NAME: 'maestro',
      MAESTRO_STATE_TABLE: stateTable,
      MAESTRO_RUN_STATE_MACHINE_ARN: runStateMachineArn,
      MAESTRO_DR_BACKUP_STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:maestro-dr-backup`,
      MAESTRO_DR_RESTORE_STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:maestro-dr-restore`,
      MAESTRO_DR_TARGETS: USER_DR_TARGETS ?? JSON.stringify([{ name: 'demo', tables: [demoTable], prefixes: [{ bucket: demoBucket, prefix: '' }] }]),
      MAESTRO_MANIFEST_KEY_ID: MAESTRO_KMS_KEYS.manifestSigning.alias,
      MAESTRO_AUTH_MODE: 'dev-tokens',
      MAESTRO_NOTIFICATIONS_FILE: join(dataDir, 'notifications.jsonl'),
      MAESTRO_PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
      MAESTRO_CONFIG_FILE: process.env.MAESTRO_CONFIG_FILE ?? join(ROOT, 'maestro.config.yaml'),
      MAESTRO_POLICY_DIR: process.env.MAESTRO_POLICY_DIR ?? join(ROOT, 'policies'),
      POWERTOOLS_SERVICE_NAME: 'maestro',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      // Audit heads of finished runs are signed into this versioned bucket.
      MAESTRO_ARTIFACT_BUCKET: ARTIFACT_BUCKET,
      // EMF metric lines would interleave with the demo's progress; POWERTOOLS_METRICS_DISABLED=false shows them.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    });

    // A bad guardrail file or policy refuses to start, naming the key or the policy.
    loadGuardrails();
    loadPolicyEngine();
    // http.fetch sends each request from a sandbox process (Node permission model, memory and time caps).
    useEgressTransport(sandboxedTransport);
    // Every apply that reaches the network runs in a child process under Node's permission model.
    useIsolatedApply(isolatedApply);
    resetHandlerDeps();
    resetDrDeps();
    await provisionResources({ dynamodbUrl, s3Url: s3.url, stateTable, demoBucket, demoTable });

    const lambdas: Record<string, LocalLambda> = {};
    const substitutions: Record<string, string> = {};
    for (const [placeholder, fn] of Object.entries(RUN_FUNCTIONS)) {
      const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.name}`;
      const { handler } = (await load(fn.module)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
      substitutions[placeholder] = arn;
      lambdas[arn] = (payload) => handler(payload, lambdaContext(fn.name));
    }
    const stepFunctions = await startLocalStepFunctions({
      dataDir: join(dataDir, 'stepfunctions'),
      stateMachines: [
        { name: RUN_STATE_MACHINE, definition: loadDefinition(join(ROOT, 'statemachines/run.asl.json'), substitutions) },
        ...(await drStateMachines(lambdas, load)),
      ],
      lambdas,
      port: sfnPort,
      region: REGION,
      accountId: ACCOUNT,
      onStateEvent: options.onStateEvent,
    });
    stoppers.push(() => stepFunctions.stop());

    const { handler: apiHandler } = (await load('../functions/handlers/api.ts')) as typeof import('../functions/handlers/api.ts');
    const api: RunningApiGatewayServer = await startApiGatewayServer({
      handler: apiHandler,
      context: () => lambdaContext('maestro-api', 29_000),
      port: apiPort,
    });
    stoppers.push(() => api.stop());

    // The DR targets' rate() schedules, as EventBridge Scheduler runs them in AWS (lib/dr-workflows.ts).
    const { handler: scheduledDr } = (await load('../functions/handlers/dr/scheduled.ts')) as typeof import('../functions/handlers/dr/scheduled.ts');
    const drScheduler = startDrScheduler({
      targets: loadDrTargets(),
      invoke: (request) => scheduledDr(request, lambdaContext('maestro-dr-scheduled')),
      onError: (error) => console.error(`maestro: scheduled DR job: ${(error as Error).message}`),
    });
    stoppers.push(async () => drScheduler.stop());

    // The approval sweeper (reminders at half time, EXPIRED at the deadline): every minute in AWS.
    const { handler: sweepApprovals } = (await load('../functions/handlers/approvals/sweep.ts')) as typeof import('../functions/handlers/approvals/sweep.ts');
    const approvalSweeper = startApprovalSweeper({
      intervalMs: options.approvalSweepMs ?? 5_000,
      sweep: () => sweepApprovals({}, lambdaContext('maestro-approval-sweeper')),
    });
    stoppers.push(() => approvalSweeper.stop());

    // The outbox relay: the Lambda that reads the state table's stream in AWS, fed here by a poller.
    let outboxRelay: RunningOutboxRelay | undefined;
    let lastRelayError: string | undefined;
    if (options.outboxRelay ?? true) {
      const { handler: relayHandler } = (await load('../functions/handlers/outbox/relay.ts')) as typeof import('../functions/handlers/outbox/relay.ts');
      const relay = await startOutboxRelayLoop({
        tableName: stateTable,
        checkpointFile: join(dataDir, 'outbox', 'checkpoint.json'),
        handler: (event) => relayHandler(event, lambdaContext('maestro-outbox-relay')),
        onError: (error) => {
          const message = `maestro: outbox relay: ${(error as Error).message} (retrying)`;
          if (message !== lastRelayError) console.error(message);
          lastRelayError = message;
        },
      });
      outboxRelay = relay;
      stoppers.push(() => relay.stop());
    }

    const endpoints: Endpoints = { api: api.url, dynamodb: dynamodbUrl, s3: s3.url, stepfunctions: sfnUrl, kms: kms.url, eventbridge: eventBridge.url };
    writeFileSync(join(dataDir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`);
    return { endpoints, dataDir, stateTable, runStateMachineArn, demoBucket, demoTable, stepFunctions, eventBridge, outboxRelay, handlerModules: handlerModules.loaded, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function provisionResources(input: { dynamodbUrl: string; s3Url: string; stateTable: string; demoBucket: string; demoTable: string }) {
  const dynamodb = new DynamoDBClient({});
  const s3 = new S3Client({ forcePathStyle: true });
  const kms = new KMSClient({});
  try {
    // The keys later workflows sign with: backup manifests (ECDSA P-256) and approval links (HMAC).
    await ensureKmsKey(kms, MAESTRO_KMS_KEYS.manifestSigning);
    await ensureKmsKey(kms, MAESTRO_KMS_KEYS.approvalLinks);
    await ensureStateTable(dynamodb, input.stateTable);
    await ensureTargetTable(dynamodb, input.demoTable);
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
  } finally {
    dynamodb.destroy();
    s3.destroy();
    kms.destroy();
  }
}

/** The two DR state machines from their ASL files, their functions registered as in-process lambdas. */
async function drStateMachines(lambdas: Record<string, LocalLambda>, load: (module: string) => Promise<any>) {
  const machines = [];
  for (const [name, workflow] of Object.entries(DR_WORKFLOWS)) {
    const substitutions: Record<string, string> = {};
    for (const [placeholder, fn] of Object.entries(workflow.functions)) {
      const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.name}`;
      const { handler } = (await load(fn.module)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
      substitutions[placeholder] = arn;
      lambdas[arn] = (payload) => handler(payload, lambdaContext(fn.name));
    }
    machines.push({ name, definition: loadDefinition(join(ROOT, workflow.file), substitutions) });
  }
  return machines;
}
