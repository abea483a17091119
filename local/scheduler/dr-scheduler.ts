import type { DrTarget } from '../../functions/core/dr/targets.ts';
import { startScheduler } from './scheduler.ts';
import type { RunningScheduler } from './scheduler.ts';

const UNITS = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 } as const;

/** The period of an EventBridge Scheduler `rate(n unit)` expression in ms, or undefined for cron()/at(). */
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

/**
 * The embedded stack's stand-in for the DR targets' EventBridge Scheduler schedules: each `rate()`,
 * `cron()` or `at()` expression invokes the scheduled handler (functions/handlers/dr/scheduled.ts) at
 * its times, on the scheduler the triggers and drift sweeps use (local/scheduler/scheduler.ts: one
 * check at a time; a time missed while the stack was down, within its catch-up window, is run once on
 * start).
 */
export function startDrScheduler(options: {
  targets: readonly DrTarget[];
  invoke: (request: ScheduledDrRequest) => Promise<unknown>;
  onError?: (error: unknown) => void;
  tickMs?: number;
  now?: () => number;
}): RunningScheduler {
  const schedules = drSchedules(options.targets).map((schedule) => ({
    id: `dr:${schedule.request.kind}:${schedule.request.target}`,
    expression: schedule.expression,
    invoke: () => options.invoke(schedule.request),
  }));
  return startScheduler({ schedules: () => schedules, tickMs: options.tickMs ?? 10_000, now: options.now, onError: options.onError });
}
