import { join, resolve } from 'node:path';
import { configToEnvironment } from '../../functions/core/config/environment-variables.ts';
import type { Config } from '../../functions/core/config/schema.ts';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';
import { ActionFailed } from '../../functions/core/errors.ts';
import { resourceKindsOf } from '../../functions/core/actions/catalog-view.ts';
import { loadCatalog, packDirs } from '../../functions/packs/loader.ts';
import { runInSandbox } from './sandbox-runner.ts';
import type { AllowedConnect, SandboxSpec } from './sandbox-runner.ts';
import { WarmPools } from './warm-pool.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** An AWS service an isolated action's clients call, and the SDK variable that names its endpoint. */
const ENDPOINT_VARIABLE = {
  s3: 'AWS_ENDPOINT_URL_S3',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  lambda: 'AWS_ENDPOINT_URL_LAMBDA',
  ssm: 'AWS_ENDPOINT_URL_SSM',
  cloudwatch: 'AWS_ENDPOINT_URL_CLOUDWATCH',
} as const;
type Service = keyof typeof ENDPOINT_VARIABLE;

/**
 * The services whose endpoint and credentials each isolated action gets: the managed targets it
 * writes. An action missing here gets none (its clients fail: add it with the services it calls).
 * `dr.approve-restore` runs in the control plane, never here, so it gets nothing.
 */
export const SERVICES_OF_ACTION: ReadonlyMap<string, readonly Service[]> = new Map<string, readonly Service[]>([
  ['s3.put-object', ['s3']],
  ['dynamodb.put-item', ['dynamodb']],
  ['lambda.shift-alias', ['lambda', 'cloudwatch']],
  ['ssm.put-parameter', ['ssm']],
  ['run.undo-task', ['s3', 'dynamodb']],
  ['dr.approve-restore', []],
  ['s3.delete-object', ['s3']],
  ['s3.copy-object', ['s3']],
  ['dynamodb.update-item', ['dynamodb']],
  ['dynamodb.delete-item', ['dynamodb']],
]);

/** The credentials and region the SDK reads, passed only to an action that calls at least one service. */
const CREDENTIAL_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/**
 * The sandbox's whole environment for one action, and the TCP destinations it may open: the endpoint
 * of each service it calls (the service's own variable, or the SDK's global AWS_ENDPOINT_URL) and the
 * credentials. Never Maestro's own settings (MAESTRO_*: tables, keys, webhooks), the Powertools
 * settings, or the endpoints of KMS, Step Functions, SES, EventBridge.
 */
export function sandboxEnvironment(
  action: string,
  env: NodeJS.ProcessEnv = process.env,
  declared: readonly string[] = [],
): { env: Record<string, string>; allowConnect: AllowedConnect[] } {
  // A pack's action: the services of the resource kinds it declares (its examples' resources).
  const services = SERVICES_OF_ACTION.get(action) ?? declared.filter((kind): kind is Service => Object.hasOwn(ENDPOINT_VARIABLE, kind));
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

/** The isolated apply of the embedded stack, and how to end its warm workers (the stack's stop). */
export type IsolatedApplyHost = ((input: IsolatedApply) => Promise<Record<string, unknown>>) & {
  /** Ends every warm worker; resolves once every process has exited. Later applies are refused. */
  close(): Promise<void>;
  /** The warm pools, one per action (tests, diagnostics); undefined when `sandbox.maxWorkers` is 0. */
  readonly pools: WarmPools | undefined;
};

/** What a sandbox of `action`'s apply is started with: the same for every call of that action. */
function applySpec(action: string, known: NodeJS.ProcessEnv, kinds: readonly string[], packDirectories: readonly string[]): SandboxSpec {
  const { env, allowConnect } = sandboxEnvironment(action, known, kinds);
  return {
    modulePath: join(ROOT, 'local/sandbox/apply-entry.ts'),
    exportName: 'applyInSandbox',
    allowRead: [join(ROOT, 'functions'), join(ROOT, 'node_modules'), ...packDirectories],
    memoryMb: 256,
    env,
    allowConnect,
  };
}

/**
 * The embedded stack's action sandbox: the apply of every action that reaches the network runs in a
 * child process under Node's permission model (reads: the code and its libraries; writes: a scratch
 * directory; no processes, workers or add-ons), with only the endpoints and credentials of the
 * managed-target services the action calls, connections to those endpoints only, no signals to other
 * processes, a heap cap and the action's time budget. The DR quiesce flags travel with the request, as
 * data; the child reaches nothing of Maestro's state. In AWS, the executor function is the sandbox.
 *
 * The children are warm (warm-pool.ts, settings in the configuration's `sandbox` section): a pool per
 * action, never shared between actions, each worker confined once at its start for that action and
 * answering one apply at a time, retired after `maxUsesPerWorker` applies, after any violation, timeout
 * or crash, and after `idleMs` idle. `sandbox.maxWorkers: 0` starts a fresh process for every apply.
 */
export function createIsolatedApply(config: Config): IsolatedApplyHost {
  // What the stack's configuration says of the services and credentials, as the SDK reads them; each
  // sandbox gets only the part its action's clients need (sandboxEnvironment).
  const known: Record<string, string> = {
    ...configToEnvironment(config),
    ...(config.aws.region ? { AWS_REGION: config.aws.region } : {}),
    ...(config.aws.credentials ? { AWS_ACCESS_KEY_ID: config.aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: config.aws.credentials.secretAccessKey } : {}),
  };
  const settings = config.sandbox;
  // The child builds its catalog from the same pins (apply-entry.ts): the built-ins, and the pack of the
  // action it runs (only that pack's folder is readable to it; a built-in's apply loads no pack at all).
  const catalog = loadCatalog(config);
  const pinsOf = (name: string) => (catalog.find(name) ? config.packs.filter((pin) => pin.name === catalog.packOf(name).name) : []);
  // A warm pool's spec is taken when its action first applies; a one-shot apply's at each call.
  const specOf = (name: string) => {
    const action = catalog.find(name);
    return applySpec(name, { ...process.env, ...known }, action ? resourceKindsOf(action) : [], packDirs(pinsOf(name)));
  };
  const pools = settings.maxWorkers > 0 ? new WarmPools(settings, specOf) : undefined;
  if (pools && settings.prewarm) for (const [action, services] of SERVICES_OF_ACTION) if (services.length > 0) pools.pool(action).prewarm();
  /** The one-shot applies in flight (maxWorkers 0): close aborts them, which kills their processes. */
  const inFlight = new Map<AbortController, Promise<unknown>>();
  let closed = false;
  const apply = async (input: IsolatedApply) => {
    // The time budget itself is enforced by the caller (BudgetExceeded); this only stops a runaway process.
    const call = { args: [input, pinsOf(input.action)], timeMs: input.timeMs + 5_000 };
    if (pools) return pools.call<Record<string, unknown>>(input.action, call);
    if (closed) throw new ActionFailed('the sandbox is shut down (the stack is stopping)');
    const abort = new AbortController();
    const running = runInSandbox<Record<string, unknown>>({ ...specOf(input.action), ...call, signal: abort.signal });
    inFlight.set(abort, running);
    try {
      return await running;
    } finally {
      inFlight.delete(abort);
    }
  };
  return Object.assign(apply, {
    pools,
    close: async () => {
      closed = true;
      for (const abort of inFlight.keys()) abort.abort(new ActionFailed('the sandbox is shut down (the stack is stopping)'));
      await Promise.allSettled([...inFlight.values(), pools?.close()]);
    },
  });
}
