import { describe, expect, it } from 'vitest';
import { DrTargets } from '../../../functions/core/dr/targets.ts';
import { drSchedules, ratePeriodMs } from '../../../local/scheduler/dr-scheduler.ts';

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
});
