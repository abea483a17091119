import type { Guardrails } from '../../functions/core/config/guardrails.ts';
import { ratePeriodMs } from './dr-scheduler.ts';
import { startScheduler } from './scheduler.ts';
import type { RunningScheduler } from './scheduler.ts';

export interface ScheduledDriftRequest {
  environment: string;
}

/** The environments' drift schedules: the same list lib/drift-schedules.ts turns into EventBridge Scheduler schedules. */
export function driftSchedules(environments: Guardrails['environments']): { request: ScheduledDriftRequest; expression: string; periodMs?: number }[] {
  return Object.entries(environments).flatMap(([environment, settings]) =>
    settings.drift ? [{ request: { environment }, expression: settings.drift.schedule, periodMs: ratePeriodMs(settings.drift.schedule) }] : [],
  );
}

/**
 * The embedded stack's stand-in for the drift schedules: each environment's `rate()`, `cron()` or
 * `at()` expression invokes the scheduled sweep handler (functions/handlers/drift/scheduled.ts) at its
 * times, on the same scheduler as the triggers' (local/scheduler/scheduler.ts: one check at a time,
 * a time missed while the stack was down swept once on start; a sweep is idempotent).
 */
export function startDriftScheduler(options: {
  environments: Guardrails['environments'];
  invoke: (request: ScheduledDriftRequest) => Promise<unknown>;
  onError?: (error: unknown) => void;
  tickMs?: number;
  now?: () => number;
}): RunningScheduler {
  const schedules = driftSchedules(options.environments).map((schedule) => ({
    id: `drift:${schedule.request.environment}`,
    expression: schedule.expression,
    invoke: () => options.invoke(schedule.request),
  }));
  return startScheduler({ schedules: () => schedules, tickMs: options.tickMs ?? 10_000, now: options.now, onError: options.onError });
}
