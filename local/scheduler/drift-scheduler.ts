import type { Guardrails } from '../../functions/core/config/guardrails.ts';
import { ratePeriodMs } from './dr-scheduler.ts';

export interface ScheduledDriftRequest {
  environment: string;
}

/** The environments' drift schedules: the same list lib/drift-schedules.ts turns into EventBridge Scheduler schedules. */
export function driftSchedules(environments: Guardrails['environments']): { request: ScheduledDriftRequest; expression: string; periodMs?: number }[] {
  return Object.entries(environments).flatMap(([environment, settings]) =>
    settings.drift ? [{ request: { environment }, expression: settings.drift.schedule, periodMs: ratePeriodMs(settings.drift.schedule) }] : [],
  );
}

export interface RunningDriftScheduler {
  /** Schedules left out locally (cron and at expressions), with why. */
  skipped: string[];
  stop(): void;
}

/**
 * The embedded stack's stand-in for the drift schedules: every `rate()` one invokes the scheduled
 * sweep handler (functions/handlers/drift/scheduled.ts) at its period, one sweep of an environment
 * at a time (a tick that finds the last sweep still going is skipped). `cron()` and `at()` expressions
 * run in AWS only; they are reported, not run.
 */
export function startDriftScheduler(options: {
  environments: Guardrails['environments'];
  invoke: (request: ScheduledDriftRequest) => Promise<unknown>;
  onError?: (error: unknown) => void;
}): RunningDriftScheduler {
  const timers: NodeJS.Timeout[] = [];
  const skipped: string[] = [];
  for (const schedule of driftSchedules(options.environments)) {
    if (schedule.periodMs === undefined) {
      skipped.push(`drift sweep of ${schedule.request.environment}: ${schedule.expression} (only rate() runs locally)`);
      continue;
    }
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      options
        .invoke(schedule.request)
        .catch((error: unknown) => options.onError?.(error))
        .finally(() => {
          running = false;
        });
    }, schedule.periodMs);
    timer.unref();
    timers.push(timer);
  }
  return {
    skipped,
    stop: () => {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
