import { describe, expect, it } from 'vitest';
import { Guardrails } from '../../../functions/core/config/guardrails.ts';
import { driftSchedules, startDriftScheduler } from '../../../local/scheduler/drift-scheduler.ts';

const guardrails = (environments: Record<string, unknown>) => Guardrails.parse({ environments, defaultEnvironment: Object.keys(environments)[0] }).environments;

describe('the local drift scheduler', () => {
  it('takes one schedule per environment that declares drift, rate() with its period', () => {
    const environments = guardrails({
      dev: { drift: { schedule: 'rate(15 minutes)' } },
      prod: { drift: { schedule: 'cron(0/15 * * * ? *)', maxRuns: 50 } },
      test: {},
    });
    expect(driftSchedules(environments)).toEqual([
      { request: { environment: 'dev' }, expression: 'rate(15 minutes)', periodMs: 15 * 60_000 },
      { request: { environment: 'prod' }, expression: 'cron(0/15 * * * ? *)', periodMs: undefined },
    ]);
  });

  it('runs cron() and rate() sweeps at their times, each scheduled time once', async () => {
    const environments = guardrails({ dev: { drift: { schedule: 'rate(15 minutes)' } }, prod: { drift: { schedule: 'cron(0/15 * * * ? *)' } } });
    const swept: string[] = [];
    let now = Date.parse('2026-12-02T05:00:30Z');
    const running = startDriftScheduler({ environments, invoke: async (request) => swept.push(request.environment), tickMs: 3_600_000, now: () => now });
    await running.tick();
    await running.tick();
    expect(swept.sort()).toEqual(['dev', 'prod']);
    now = Date.parse('2026-12-02T05:10:00Z');
    await running.tick();
    expect(swept).toHaveLength(2);
    now = Date.parse('2026-12-02T05:15:01Z');
    await running.tick();
    expect(swept.sort()).toEqual(['dev', 'dev', 'prod', 'prod']);
    running.stop();
  });

  it('refuses a schedule that is no EventBridge Scheduler expression, naming the key', () => {
    const result = Guardrails.safeParse({ environments: { dev: { drift: { schedule: 'every 15 minutes' } } } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['environments', 'dev', 'drift', 'schedule']);
  });
});
