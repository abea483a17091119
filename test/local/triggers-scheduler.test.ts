import { describe, expect, it } from 'vitest';
import { startScheduler } from '../../local/scheduler/scheduler.ts';

describe('the local scheduler (EventBridge Scheduler stand-in)', () => {
  it('invokes the latest due cron() time once per process, the latest again after a restart, and retries a failed invocation', async () => {
    let now = Date.parse('2026-12-02T03:04:05Z');
    const calls: string[] = [];
    let failNext = false;
    const schedules = [
      {
        id: 'every-minute',
        expression: 'cron(* * * * ? *)',
        invoke: async (time: string) => {
          if (failNext) {
            failNext = false;
            throw new Error('target down');
          }
          calls.push(time);
        },
      },
    ];
    const errors: unknown[] = [];
    const first = startScheduler({ schedules: () => schedules, now: () => now, tickMs: 60_000, onError: (error) => errors.push(error) });
    await first.tick();
    await first.tick();
    expect(calls).toEqual(['2026-12-02T03:04:00.000Z']);
    // Two minutes later: only the latest time (no burst of the missed ones).
    now = Date.parse('2026-12-02T03:06:10Z');
    failNext = true;
    await first.tick();
    expect(errors).toHaveLength(1);
    await first.tick();
    expect(calls).toEqual(['2026-12-02T03:04:00.000Z', '2026-12-02T03:06:00.000Z']);
    first.stop();
    // A restarted scheduler fires the latest time again: the target's firing key must refuse it.
    const second = startScheduler({ schedules: () => schedules, now: () => now, tickMs: 60_000 });
    await second.tick();
    expect(calls.at(-1)).toBe('2026-12-02T03:06:00.000Z');
    expect(calls).toHaveLength(3);
    second.stop();
  });

  it('fires at() once when due and never a time older than the catch-up window', async () => {
    const calls: string[] = [];
    const schedules = [
      { id: 'once', expression: 'at(2026-12-02T03:00:00)', invoke: async (time: string) => void calls.push(time) },
      { id: 'long-ago', expression: 'at(2026-12-01T03:00:00)', invoke: async (time: string) => void calls.push(time) },
    ];
    const scheduler = startScheduler({ schedules: () => schedules, now: () => Date.parse('2026-12-02T03:01:00Z'), tickMs: 60_000 });
    await scheduler.tick();
    await scheduler.tick();
    expect(calls).toEqual(['2026-12-02T03:00:00.000Z']);
    scheduler.stop();
  });
});
