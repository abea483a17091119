import type { ChangeFreeze, Guardrails } from '../config/guardrails.ts';
import type { ControlState, ControlStore, FreezeOverride } from '../control/model.ts';
import { ValidationFailed } from '../errors.ts';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** The freeze in force at `now`, if any. */
export function activeFreeze(freezes: readonly ChangeFreeze[], now: Date): ChangeFreeze | undefined {
  return freezes.find((freeze) => {
    if ('from' in freeze) return Date.parse(freeze.from) <= now.getTime() && now.getTime() < Date.parse(freeze.to);
    const hour = now.getUTCHours();
    return freeze.weekdays.includes(WEEKDAYS[now.getUTCDay()]) && freeze.fromHourUtc <= hour && hour < freeze.toHourUtc;
  });
}

/** An admin override for the environment that is still valid at `now`. */
export function activeOverride(overrides: readonly FreezeOverride[] | undefined, environment: string, now: Date): FreezeOverride | undefined {
  return (overrides ?? []).find((override) => override.environment === environment && Date.parse(override.until) > now.getTime());
}

/** The longest an admin may override a change freeze for. */
export const MAX_FREEZE_OVERRIDE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Records an admin's override of an environment's change freezes: the environment must be one the
 * guardrails declare, and `until` in the future and at most seven days away.
 */
export async function grantFreezeOverride(
  deps: { guardrails: Pick<Guardrails, 'environments'>; control: Pick<ControlStore, 'addFreezeOverride'>; clock(): Date },
  request: { environment: string; justification: string; until: string; grantedBy: string },
  correlationId: string,
): Promise<ControlState> {
  if (!Object.hasOwn(deps.guardrails.environments, request.environment))
    throw new ValidationFailed(`unknown environment "${request.environment}"`, { field: 'environment' });
  const now = deps.clock();
  const until = Date.parse(request.until);
  if (until <= now.getTime() || until > now.getTime() + MAX_FREEZE_OVERRIDE_MS) {
    throw new ValidationFailed('until must be in the future and at most 7 days away', { field: 'until' });
  }
  return deps.control.addFreezeOverride(
    {
      environment: request.environment,
      justification: request.justification,
      until: new Date(until).toISOString(),
      grantedBy: request.grantedBy,
      grantedAt: now.toISOString(),
    },
    correlationId,
  );
}
