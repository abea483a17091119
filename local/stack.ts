import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { resetHandlerDeps } from '../functions/handlers/shared/deps.ts';
import { startApiGatewayServer } from './api/ApiGatewayServer.ts';
import type { RunningApiGatewayServer } from './api/ApiGatewayServer.ts';
import { startDynamoDbLocal } from './dynamodb/DynamoDbLocal.ts';
import type { RunningDynamoDbLocal } from './dynamodb/DynamoDbLocal.ts';
import { ensureStateTable, ensureTargetTable } from './dynamodb/tables.ts';
import { MAESTRO_KMS_KEYS, ensureKmsKey, startKmsEmulator } from './kms/KmsEmulator.ts';
import type { RunningKmsEmulator } from './kms/KmsEmulator.ts';
import { lambdaContext } from './lambda-context.ts';
import { freePort } from './net.ts';
import { startS3Emulator } from './s3/S3Emulator.ts';
import type { RunningS3Emulator } from './s3/S3Emulator.ts';
import { loadDefinition, startLocalStepFunctions } from './sfn/LocalStepFunctions.ts';
import type { LocalLambda, LocalStepFunctionsOptions, RunningLocalStepFunctions } from './sfn/LocalStepFunctions.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const ROOT = resolve(import.meta.dirname, '..');
const RUN_STATE_MACHINE = 'maestro-run';

/** The run workflow's functions: ASL substitution name → handler module (the Lambda entry points in CDK). */
const RUN_FUNCTIONS = {
  AdmitFunctionArn: { name: 'maestro-run-admit', module: '../functions/handlers/run/admit.ts' },
  PlanFunctionArn: { name: 'maestro-run-plan', module: '../functions/handlers/run/plan.ts' },
  RequestApprovalFunctionArn: { name: 'maestro-run-request-approval', module: '../functions/handlers/run/request-approval.ts' },
  ApplyTaskFunctionArn: { name: 'maestro-run-apply-task', module: '../functions/handlers/run/apply-task.ts' },
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
  /** Live progress of workflow executions. */
  onStateEvent?: LocalStepFunctionsOptions['onStateEvent'];
}

export interface Endpoints {
  api: string;
  dynamodb: string;
  s3: string;
  stepfunctions: string;
  kms: string;
}

export interface EmbeddedStack {
  endpoints: Endpoints;
  dataDir: string;
  stateTable: string;
  runStateMachineArn: string;
  demoBucket: string;
  demoTable: string;
  stepFunctions: RunningLocalStepFunctions;
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
    const sfnPort = await freePort();
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
      MAESTRO_STATE_TABLE: stateTable,
      MAESTRO_RUN_STATE_MACHINE_ARN: runStateMachineArn,
      MAESTRO_AUTH_MODE: 'dev-tokens',
      POWERTOOLS_SERVICE_NAME: 'maestro',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    });

    resetHandlerDeps();
    await provisionResources({ dynamodbUrl, s3Url: s3.url, stateTable, demoBucket, demoTable });

    const lambdas: Record<string, LocalLambda> = {};
    const substitutions: Record<string, string> = {};
    for (const [placeholder, fn] of Object.entries(RUN_FUNCTIONS)) {
      const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.name}`;
      const { handler } = (await import(fn.module)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
      substitutions[placeholder] = arn;
      lambdas[arn] = (payload) => handler(payload, lambdaContext(fn.name));
    }
    const stepFunctions = await startLocalStepFunctions({
      dataDir: join(dataDir, 'stepfunctions'),
      stateMachines: [{ name: RUN_STATE_MACHINE, definition: loadDefinition(join(ROOT, 'statemachines/run.asl.json'), substitutions) }],
      lambdas,
      port: sfnPort,
      region: REGION,
      accountId: ACCOUNT,
      onStateEvent: options.onStateEvent,
    });
    stoppers.push(() => stepFunctions.stop());

    const { handler: apiHandler } = await import('../functions/handlers/api.ts');
    const api: RunningApiGatewayServer = await startApiGatewayServer({
      handler: apiHandler,
      context: () => lambdaContext('maestro-api', 29_000),
      port: options.apiPort ?? 8080,
    });
    stoppers.push(() => api.stop());

    const endpoints: Endpoints = { api: api.url, dynamodb: dynamodbUrl, s3: s3.url, stepfunctions: sfnUrl, kms: kms.url };
    writeFileSync(join(dataDir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`);
    return { endpoints, dataDir, stateTable, runStateMachineArn, demoBucket, demoTable, stepFunctions, stop: stopAll };
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
  } finally {
    dynamodb.destroy();
    s3.destroy();
    kms.destroy();
  }
}
