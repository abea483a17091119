import type { Guardrails } from '../config/guardrails.ts';
import { own } from '../own.ts';
import type { Principal } from '../runs/model.ts';

/**
 * A ceiling on a run's autonomy that comes from who (or what) asks for it rather than from the
 * environment: an agent's own (maestro.config.yaml `agents`), or any other caller's (e.g. a trigger's),
 * passed to createRun. `source` names where it is configured, for the audit trail.
 */
export interface AutonomyCap {
  ceiling: number;
  source: string;
}

/** The agent's own ceiling in this environment, when the principal is an agent with one configured. */
export function agentAutonomyCap(
  guardrails: Pick<Guardrails, 'agents'>,
  principal: Pick<Principal, 'id' | 'kind'>,
  environment: string,
): AutonomyCap | undefined {
  if (principal.kind !== 'agent') return undefined;
  const ceiling = own(own(guardrails.agents, principal.id)?.autonomy ?? {}, environment);
  return ceiling === undefined ? undefined : { ceiling, source: `agents.${principal.id}.autonomy.${environment}` };
}

/**
 * The autonomy under the caps: the lowest of `autonomy` and every cap, and the cap that lowered it
 * (the lowest one, when any was below `autonomy`).
 */
export function capAutonomy(autonomy: number, caps: readonly (AutonomyCap | undefined)[]): { autonomy: number; cappedBy?: AutonomyCap } {
  let cappedBy: AutonomyCap | undefined;
  for (const cap of caps) {
    if (cap && cap.ceiling < (cappedBy?.ceiling ?? autonomy)) cappedBy = cap;
  }
  return cappedBy ? { autonomy: cappedBy.ceiling, cappedBy } : { autonomy };
}
