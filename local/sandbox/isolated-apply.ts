import { join, resolve } from 'node:path';
import { configToEnvironment } from '../../functions/core/config/environment-variables.ts';
import type { Config } from '../../functions/core/config/schema.ts';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';
import { runInSandbox } from './sandbox-runner.ts';
import type { AllowedConnect } from './sandbox-runner.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** An AWS service an isolated action's clients call, and the SDK variable that names its endpoint. */
const ENDPOINT_VARIABLE = { s3: 'AWS_ENDPOINT_URL_S3', dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB' } as const;
type Service = keyof typeof ENDPOINT_VARIABLE;

/**
 * The services whose endpoint and credentials each isolated action gets: the managed targets it
 * writes. An action missing here gets none (its clients fail: add it with the services it calls).
 * `dr.approve-restore` runs in the control plane, never here, so it gets nothing.
 */
export const SERVICES_OF_ACTION: ReadonlyMap<string, readonly Service[]> = new Map<string, readonly Service[]>([
  ['s3.put-object', ['s3']],
  ['dynamodb.put-item', ['dynamodb']],
  ['run.undo-task', ['s3', 'dynamodb']],
  ['dr.approve-restore', []],
]);

/** The credentials and region the SDK reads, passed only to an action that calls at least one service. */
const CREDENTIAL_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/**
 * The sandbox's whole environment for one action, and the TCP destinations it may open: the endpoint
 * of each service it calls (the service's own variable, or the SDK's global AWS_ENDPOINT_URL) and the
 * credentials. Never Maestro's own settings (MAESTRO_*: tables, keys, webhooks), the Powertools
 * settings, or the endpoints of KMS, Step Functions, SES, EventBridge.
 */
export function sandboxEnvironment(action: string, env: NodeJS.ProcessEnv = process.env): { env: Record<string, string>; allowConnect: AllowedConnect[] } {
  const services = SERVICES_OF_ACTION.get(action) ?? [];
  const granted: Record<string, string> = {};
  const allowConnect: AllowedConnect[] = [];
  for (const service of services) {
    const endpoint = env[ENDPOINT_VARIABLE[service]] ?? env.AWS_ENDPOINT_URL;
    if (endpoint === undefined) continue;
    granted[ENDPOINT_VARIABLE[service]] = endpoint;
    const url = new URL(endpoint);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    allowConnect.push({ host, port, addresses: [host] });
  }
  if (services.length > 0) for (const name of CREDENTIAL_VARIABLES) if (env[name] !== undefined) granted[name] = env[name]!;
  return { env: granted, allowConnect };
}

/**
 * The embedded stack's action sandbox: the apply of every action that reaches the network runs in a
 * child process under Node's permission model (reads: the code and its libraries; writes: a scratch
 * directory; no processes, workers or add-ons), with only the endpoints and credentials of the
 * managed-target services the action calls, connections to those endpoints only, no signals to other
 * processes, a heap cap and the action's time budget. The DR quiesce flags travel with the request, as
 * data; the child reaches nothing of Maestro's state. In AWS, the executor function is the sandbox.
 */
export function createIsolatedApply(config: Config): (input: IsolatedApply) => Promise<Record<string, unknown>> {
  // What the stack's configuration says of the services and credentials, as the SDK reads them; each
  // sandbox gets only the part its action's clients need (sandboxEnvironment).
  const known: Record<string, string> = {
    ...configToEnvironment(config),
    ...(config.aws.region ? { AWS_REGION: config.aws.region } : {}),
    ...(config.aws.credentials ? { AWS_ACCESS_KEY_ID: config.aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: config.aws.credentials.secretAccessKey } : {}),
  };
  return (input) => isolatedApply(input, { ...process.env, ...known });
}

function isolatedApply(input: IsolatedApply, known: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const { env, allowConnect } = sandboxEnvironment(input.action, known);
  return runInSandbox<Record<string, unknown>>({
    modulePath: join(ROOT, 'local/sandbox/apply-entry.ts'),
    exportName: 'applyInSandbox',
    args: [input],
    allowRead: [join(ROOT, 'functions'), join(ROOT, 'node_modules')],
    memoryMb: 256,
    // The time budget itself is enforced by the caller (BudgetExceeded); this only stops a runaway process.
    timeMs: input.timeMs + 5_000,
    env,
    allowConnect,
  });
}
