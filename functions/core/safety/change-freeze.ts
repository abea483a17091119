import type { ChangeFreeze } from '../config/guardrails.ts';
import type { FreezeOverride } from '../control/model.ts';

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
