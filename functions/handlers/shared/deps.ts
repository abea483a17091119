import type { Config } from '../../core/config/schema.ts';
import type { ExecutorDeps } from '../../core/runs/task-executor.ts';
import { createExecutorDeps, inProcessExecutor } from '../run/executor-deps.ts';
import { composeDeps, createWiring } from './compose-deps.ts';
import type { DepsParts, HandlerDeps, HostServices } from './compose-deps.ts';
import * as parts from './ports.ts';

export type { HandlerDeps, HostServices } from './compose-deps.ts';
export { loadPolicyEngine } from './ports.ts';

/**
 * Every part a handler may reach, for the roots that serve many (the API and DR functions; with
 * `clients` and the in-process executor, the embedded stack's). `clients` (a view naming every SDK
 * client) is the host's alone: no handler reads it, and naming it would bundle every client.
 */
export const ALL_PARTS: Omit<DepsParts, 'clients'> = {
  config: parts.config,
  egress: parts.egress,
  dr: parts.dr,
  outbox: parts.outbox,
  subscriptions: parts.subscriptions,
  drift: parts.drift,
  unverifiedLinks: parts.unverifiedLinks,
  tokenVerifier: parts.tokenVerifier,
  auditSealing: parts.auditSealing,
  runs: parts.runs,
  templates: parts.templates,
  triggers: parts.triggers,
  configTriggers: parts.configTriggers,
  engine: parts.engine,
  catalog: parts.catalog,
  guardrails: parts.guardrails,
  policy: parts.policy,
  control: parts.control,
  locks: parts.locks,
  rateLimiter: parts.rateLimiter,
  ownResources: parts.ownResources,
  linkSigner: parts.linkSigner,
  linkLedger: parts.linkLedger,
  notifier: parts.notifier,
  publicUrl: parts.publicUrl,
  actionContext: parts.actionContext,
  executor: parts.executor,
  quiesceFlags: parts.quiesceFlags,
  applyReads: parts.applyReads,
  clock: parts.clock,
  newId: parts.newId,
};

/**
 * Where the embedded stack runs actions: the executor functions when configured (the stack on bundles
 * hosts them in the Lambda stand-in), else this process, with the executors' own target-only deps
 * and the host's sandbox. Only this root imports that in-process path, so no Lambda bundle carries it.
 */
const executorHere: DepsParts['executor'] = (w) => {
  if (w.config.workflows.taskExecutors) return parts.executor(w);
  let executorDeps: ExecutorDeps | undefined;
  return inProcessExecutor(() => (executorDeps ??= createExecutorDeps(w.config, w.host)));
};

/**
 * The composition root of every port: every SDK client and every adapter, from the configuration
 * and what the host injects, each built on first use and kept. The embedded stack builds it once per
 * start and hands it to the handlers it hosts. A Lambda function builds only its handler's ports
 * instead (lambda-deps.ts, with the parts its entry names), so its bundle carries only those.
 */
export function createDeps(config: Config, host: HostServices = {}): HandlerDeps {
  return composeDeps(createWiring(config, host), { ...ALL_PARTS, clients: parts.clients, executor: executorHere }, 'the full composition root');
}
