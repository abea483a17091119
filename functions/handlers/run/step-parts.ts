import type { DepsParts } from '../shared/compose-deps.ts';
import {
  applyReads,
  auditSealing,
  catalog,
  clock,
  config,
  control,
  guardrails,
  linkLedger,
  locks,
  newId,
  ownResources,
  publicUrl,
  quiesceFlags,
  rateLimiter,
  runs,
} from '../shared/ports.ts';

/**
 * What every run step's function wires: the configuration, the run and its reads, the catalog, the
 * state table's small stores (locks, control record, rate limits, link ledger, quiesce flags), and
 * the audit sealing its handler checkpoints with. Each step adds the heavier ports it reaches: the
 * policy engine (Cedar) where it decides, the executor and the control plane's action context where
 * it runs actions, the engine, link signer and notifier where it asks for approval.
 */
export const RUN_STEP_PARTS = {
  config,
  runs,
  catalog,
  clock,
  newId,
  guardrails,
  publicUrl,
  ownResources,
  applyReads,
  locks,
  control,
  rateLimiter,
  linkLedger,
  quiesceFlags,
  auditSealing,
} satisfies Partial<DepsParts>;
