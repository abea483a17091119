import type { DrTarget } from '../../functions/core/dr/targets.ts';

const UNITS = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 } as const;

/** The period of an EventBridge Scheduler `rate(n unit)` expression in ms, or undefined for cron()/at() (not run locally). */
export function ratePeriodMs(expression: string): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  if (n < 1) return undefined;
  return n * UNITS[match[2] as keyof typeof UNITS];
}

export interface ScheduledDrRequest {
  kind: 'backup' | 'restore-test';
  target: string;
}

/** The schedules the targets declare: the same list lib/dr-workflows.ts turns into EventBridge Scheduler schedules. */
export function drSchedules(targets: readonly DrTarget[]): { request: ScheduledDrRequest; expression: string; periodMs?: number }[] {
  return targets.flatMap((target) =>
    (
      [
        ['backup', target.backupSchedule],
        ['restore-test', target.restoreTestSchedule],
      ] as const
    )
      .filter((entry): entry is ['backup' | 'restore-test', string] => Boolean(entry[1]))
      .map(([kind, expression]) => ({ request: { kind, target: target.name }, expression, periodMs: ratePeriodMs(expression) })),
  );
}

export interface RunningDrScheduler {
  /** Schedules left out locally (cron and at expressions), with why. */
  skipped: string[];
  stop(): void;
}

/**
 * The embedded stack's stand-in for EventBridge Scheduler: every `rate()` schedule of the DR targets
 * invokes the scheduled handler (functions/handlers/dr/scheduled.ts) at its period. `cron()` and
 * `at()` expressions run in AWS only; they are reported, not run.
 */
export function startDrScheduler(options: {
  targets: readonly DrTarget[];
  invoke: (request: ScheduledDrRequest) => Promise<unknown>;
  onError?: (error: unknown) => void;
}): RunningDrScheduler {
  const timers: NodeJS.Timeout[] = [];
  const skipped: string[] = [];
  for (const schedule of drSchedules(options.targets)) {
    if (schedule.periodMs === undefined) {
      skipped.push(`${schedule.request.kind} of ${schedule.request.target}: ${schedule.expression} (only rate() runs locally)`);
      continue;
    }
    const timer = setInterval(() => {
      options.invoke(schedule.request).catch((error: unknown) => options.onError?.(error));
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
