import { latestFireTime, parseScheduleExpression } from '../../functions/core/triggers/schedule-expression.ts';

/** One schedule: an EventBridge Scheduler expression (rate, cron or at, in UTC) and what it invokes. */
export interface Schedule {
  /** Unique among the schedules (with the time, it names one firing). */
  id: string;
  expression: string;
  /** Where a `rate()` counts its periods from (ms since the epoch). @default 0 */
  anchorMs?: number;
  /** Called once per scheduled time (ISO 8601), as EventBridge Scheduler's `<aws.scheduler.scheduled-time>`. */
  invoke(scheduledTime: string): Promise<unknown>;
}

export interface RunningScheduler {
  /** Checks every schedule now (tests; the timer does it every tick). */
  tick(): Promise<void>;
  stop(): void;
}

/**
 * The embedded stack's EventBridge Scheduler: every `tickMs` it reads the schedules and invokes each
 * one whose latest scheduled time (within `catchUpMs` of now: a time missed while the stack was down
 * is fired once on start) it has not invoked yet in this process. Invocations must be idempotent by
 * scheduled time: after a restart the latest time is invoked again (a trigger's firing key refuses it).
 * A failed invocation is retried at the next tick.
 */
export function startScheduler(options: {
  schedules: () => Promise<readonly Schedule[]> | readonly Schedule[];
  /** @default 1000 ms */
  tickMs?: number;
  /** @default 5 minutes */
  catchUpMs?: number;
  now?: () => number;
  onError?: (error: unknown, schedule?: Schedule) => void;
}): RunningScheduler {
  const now = options.now ?? Date.now;
  const catchUpMs = options.catchUpMs ?? 5 * 60_000;
  /** The last scheduled time invoked, per schedule id and expression. */
  const invoked = new Map<string, number>();
  let running: Promise<void> | undefined;
  let stopped = false;

  const check = async () => {
    let schedules: readonly Schedule[];
    try {
      schedules = await options.schedules();
    } catch (error) {
      options.onError?.(error);
      return;
    }
    const at = now();
    await Promise.all(
      schedules.map(async (schedule) => {
        const memo = `${schedule.id}\n${schedule.expression}`;
        try {
          const due = latestFireTime(parseScheduleExpression(schedule.expression), at, at - catchUpMs, schedule.anchorMs ?? 0);
          if (due === undefined || (invoked.get(memo) ?? Number.NEGATIVE_INFINITY) >= due) return;
          await schedule.invoke(new Date(due).toISOString());
          invoked.set(memo, due);
        } catch (error) {
          options.onError?.(error, schedule);
        }
      }),
    );
  };
  const tick = () => {
    running ??= check().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void tick();
  }, options.tickMs ?? 1000);
  timer.unref();
  return {
    tick,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
