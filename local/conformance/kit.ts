import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import { remoteTransports } from '../../functions/core/actions/remote-protocol.ts';
import type { RemoteActionTransport } from '../../functions/core/actions/remote-protocol.ts';
import { startDynamoDbLocal } from '../dynamodb/dynamo-db-local.ts';
import { commandTransport } from '../remote-actions/command-transport.ts';
import { httpTransport } from '../remote-actions/http-transport.ts';
import { startS3RecordingProxy } from './s3-recording-proxy.ts';
import { startS3Emulator } from '../s3/s3-emulator.ts';
import { startCloudWatchEmulator } from '../cloudwatch/cloudwatch-emulator.ts';
import { startLambdaEmulator } from '../lambda/lambda-emulator.ts';
import { startSsmEmulator } from '../ssm/ssm-emulator.ts';
import { RESOURCE_KINDS } from './kinds.ts';
import type { OpenedKind, Phase, RecordedCommand, ResourceKind, RunningServices, ServiceName } from './types.ts';

export interface ConformanceKitOptions {
  /** The services to start (the kinds of the actions to check need them). @default every service of `kinds` */
  services?: readonly ServiceName[];
  /** Use an already running DynamoDB Local (the test run's shared one) instead of starting one in memory. */
  dynamodbUrl?: string;
  /** @default RESOURCE_KINDS */
  kinds?: ReadonlyMap<string, ResourceKind>;
}

/** The identity of one action call: what a task's retry or replay keeps (the key) and what it counts (the attempt). */
export interface CallIds {
  idempotencyKey: string;
  attempt?: number;
}

/**
 * The running services and an action-context factory over SDK clients that record every command
 * (with the phase it was sent in) into `journal`; what the checks run against.
 */
export interface ConformanceKit {
  readonly kinds: ReadonlyMap<string, ResourceKind>;
  /** The opened kinds (ports and out-of-band clients) by kind; only those whose service is running. */
  readonly opened: ReadonlyMap<string, OpenedKind>;
  /** Every command the actions' contexts sent since the last `clearJournal`. */
  readonly journal: readonly RecordedCommand[];
  clearJournal(): void;
  /** Runs one action call with a fresh context; its commands are recorded under `phase`. */
  call<T>(phase: Phase, ids: CallIds, body: (ctx: ActionContext) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'conformance', secretAccessKey: 'conformance' };

/**
 * Starts what the checks need of the embedded services (the S3, SSM, Lambda and CloudWatch stand-ins, DynamoDB Local) on loopback
 * with a throwaway data directory, removed at `stop`.
 */
export async function startConformanceKit(options: ConformanceKitOptions = {}): Promise<ConformanceKit> {
  const kinds = options.kinds ?? RESOURCE_KINDS;
  const wanted = new Set(options.services ?? [...kinds.values()].flatMap((kind) => (kind.service ? [kind.service] : [])));
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-conformance-'));
  const stoppers: (() => Promise<void> | void)[] = [() => rmSync(dataDir, { recursive: true, force: true })];
  const stop = async () => {
    for (const stopper of stoppers.reverse()) await stopper();
  };
  try {
    const endpoints: Partial<Record<ServiceName, string>> = {};
    if (wanted.has('s3')) {
      const s3 = await startS3Emulator({ dataDir: join(dataDir, 's3') });
      stoppers.push(() => s3.stop());
      endpoints.s3 = s3.url;
    }
    if (wanted.has('dynamodb')) {
      if (options.dynamodbUrl) endpoints.dynamodb = options.dynamodbUrl;
      else {
        const dynamodb = await startDynamoDbLocal();
        stoppers.push(() => dynamodb.stop());
        endpoints.dynamodb = dynamodb.url;
      }
    }
    if (wanted.has('ssm')) {
      const ssm = await startSsmEmulator({ dataDir: join(dataDir, 'ssm'), region: REGION });
      stoppers.push(() => ssm.stop());
      endpoints.ssm = ssm.url;
    }
    if (wanted.has('lambda')) {
      const lambda = await startLambdaEmulator({ dataDir: join(dataDir, 'lambda'), region: REGION });
      stoppers.push(() => lambda.stop());
      endpoints.lambda = lambda.url;
    }
    if (wanted.has('cloudwatch')) {
      const cloudwatch = await startCloudWatchEmulator({ dataDir: join(dataDir, 'cloudwatch'), region: REGION });
      stoppers.push(() => cloudwatch.stop());
      endpoints.cloudwatch = cloudwatch.url;
    }
    const services: RunningServices = { endpoints, region: REGION, credentials: CREDENTIALS };

    const journal: RecordedCommand[] = [];
    const phase = new AsyncLocalStorage<Phase>();
    // A remote action's command runs in a process of its own: its S3 requests reach the stand-in through a
    // recording proxy, attributed to the phase of the one call the kit has in flight (checks run one at a time).
    let inFlight: Phase | undefined;
    const remoteEndpoints = { ...endpoints };
    if (endpoints.s3) {
      const s3Kind = kinds.get('s3');
      const proxy = await startS3RecordingProxy(endpoints.s3, (call) => {
        if (!inFlight || !s3Kind) return undefined;
        const resource = s3Kind.resourceOf({ Bucket: call.bucket, Key: call.key });
        const recorded: RecordedCommand = { service: 's3', command: call.command, phase: inFlight, resource, read: s3Kind.readCommands.has(call.command) };
        journal.push(recorded);
        return recorded;
      });
      stoppers.push(() => proxy.stop());
      remoteEndpoints.s3 = proxy.url;
    }
    const remote = kitRemoteTransport({ ...services, endpoints: remoteEndpoints });
    const opened = new Map<string, OpenedKind>();
    for (const kind of kinds.values()) {
      if (kind.service && !endpoints[kind.service]) continue;
      const sink = (service: string, command: string, input: Record<string, unknown>) => {
        const current = phase.getStore();
        // Only the actions' calls are recorded, never the kit's own (out-of-band clients are not instrumented).
        if (!current) return;
        const recorded: RecordedCommand = { service, command, phase: current, resource: kind.resourceOf(input), read: kind.readCommands.has(command) };
        journal.push(recorded);
        return recorded;
      };
      const handle = kind.open(services, sink);
      stoppers.push(() => handle.destroy());
      opened.set(kind.kind, handle);
    }

    return {
      kinds,
      opened,
      journal,
      clearJournal: () => {
        journal.length = 0;
      },
      call: (current, ids, body) => {
        const ctx = {
          ...Object.assign({}, ...[...opened.values()].map((handle) => handle.context())),
          remote,
          environment: 'conformance',
          runId: 'conformance-run',
          taskIndex: 0,
          idempotencyKey: ids.idempotencyKey,
          attempt: ids.attempt ?? 1,
        } as ActionContext;
        inFlight = current;
        return phase
          .run(current, () => body(ctx))
          .finally(() => {
            inFlight = undefined;
          });
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The SDK variable that names each service's endpoint, for the remote actions' commands. */
const ENDPOINT_VARIABLES = { s3: 'AWS_ENDPOINT_URL_S3', dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB' } as const;

/**
 * How remote actions reach their code in the kit: local commands and loopback HTTP endpoints, as on the
 * embedded stack (local/remote-actions/). A command that declares services gets the kit's stand-ins'
 * endpoints and credentials, so what it changes is what the checks read back.
 */
function kitRemoteTransport(services: RunningServices): RemoteActionTransport {
  const serviceEnvironment = (wanted: readonly (keyof typeof ENDPOINT_VARIABLES)[]) => {
    const granted: Record<string, string> = {
      AWS_REGION: services.region,
      AWS_ACCESS_KEY_ID: services.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: services.credentials.secretAccessKey,
    };
    for (const service of wanted) {
      const endpoint = services.endpoints[service];
      if (endpoint) granted[ENDPOINT_VARIABLES[service]] = endpoint;
    }
    return granted;
  };
  return remoteTransports({ command: commandTransport({ serviceEnvironment }), url: httpTransport() });
}
