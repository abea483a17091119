import { describe, expect, it } from 'vitest';
import { DrTargets } from '../../../functions/core/dr/targets.ts';
import { drSchedules, ratePeriodMs, startDrScheduler } from '../../../local/scheduler/dr-scheduler.ts';

describe('the local DR scheduler', () => {
  it('reads rate() expressions; cron() and at() run only in AWS', () => {
    expect(ratePeriodMs('rate(5 minutes)')).toBe(300_000);
    expect(ratePeriodMs('rate(1 day)')).toBe(86_400_000);
    expect(ratePeriodMs('rate(0 hours)')).toBeUndefined();
    expect(ratePeriodMs('cron(0 3 * * ? *)')).toBeUndefined();
  });

  it('lists the same schedules as the CDK: a backup and a restore test per target that declares them', () => {
    const targets = DrTargets.parse([
      { name: 'orders', tables: ['orders'], backupSchedule: 'rate(1 hour)', restoreTestSchedule: 'cron(0 4 ? * SUN *)' },
      { name: 'plain', tables: ['plain'] },
    ]);
    expect(drSchedules(targets)).toEqual([
      { request: { kind: 'backup', target: 'orders' }, expression: 'rate(1 hour)', periodMs: 3_600_000 },
      { request: { kind: 'restore-test', target: 'orders' }, expression: 'cron(0 4 ? * SUN *)', periodMs: undefined },
    ]);
  });

  it('runs rate() and cron() schedules at their times, each scheduled time once', async () => {
    const targets = DrTargets.parse([{ name: 'orders', tables: ['orders'], backupSchedule: 'rate(1 hour)', restoreTestSchedule: 'cron(30 4 ? * SUN *)' }]);
    const started: string[] = [];
    // Sunday 2026-12-06 04:31: the restore test's time a minute ago, the hour's backup 31 minutes ago (outside the catch-up).
    let now = Date.parse('2026-12-06T04:31:00Z');
    const running = startDrScheduler({
      targets,
      invoke: async (request) => started.push(`${request.kind} ${request.target}`),
      tickMs: 3_600_000,
      now: () => now,
    });
    await running.tick();
    await running.tick();
    expect(started).toEqual(['restore-test orders']);
    now = Date.parse('2026-12-06T05:00:01Z');
    await running.tick();
    await running.tick();
    expect(started).toEqual(['restore-test orders', 'backup orders']);
    now = Date.parse('2026-12-06T05:59:00Z');
    await running.tick();
    expect(started).toHaveLength(2);
    running.stop();
  });
});
