import type { Config } from '../../core/config/schema.ts';
import { composeDeps, createWiring } from './compose-deps.ts';
import type { DepsParts, HandlerDeps, HostServices } from './compose-deps.ts';
import * as parts from './ports.ts';

export type { HandlerDeps, HostServices } from './compose-deps.ts';
export { loadPolicyEngine } from './ports.ts';

/** Every part, for the roots that serve every handler (the embedded stack, tests). */
export const ALL_PARTS: DepsParts = {
  config: parts.config,
  clients: parts.clients,
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
 * The composition root of every port: every SDK client and every adapter, from the configuration
 * and what the host injects, each built on first use and kept. The embedded stack builds it once per
 * start and hands it to the handlers it hosts. A Lambda function builds only its handler's ports
 * instead (lambda-deps.ts, with the parts its entry names), so its bundle carries only those.
 */
export function createDeps(config: Config, host: HostServices = {}): HandlerDeps {
  return composeDeps(createWiring(config, host), ALL_PARTS, 'the full composition root');
}
