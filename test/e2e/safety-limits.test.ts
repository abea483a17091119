import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../support/test-stack.ts';

const REASON = 'safety limits end-to-end test';
let stack: EmbeddedStack;

beforeAll(async () => {
  // This file's own guardrails, through the MAESTRO_CONFIG__ overrides a deployment would use.
  Object.assign(process.env, {
    MAESTRO_CONFIG__actions__noop: '{timeMs: 300, rateLimit: {capacity: 1, refillPerSecond: 0.5}}',
    MAESTRO_CONFIG__rateLimits__perPrincipal: '{capacity: 6, refillPerSecond: 0.01}',
    MAESTRO_CONFIG__blastRadius__maxChangingTasks: '2',
    MAESTRO_CONFIG__environments__dev__egress: '[api.example.com]',
    MAESTRO_EGRESS_STATIC_HOSTS: '{"api.example.com": ["93.184.216.34"], "other.example.com": ["93.184.216.35"]}',
    MAESTRO_CONFIG__environments__dev__changeFreezes: '[{name: "year-end freeze", from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z"}]',
  });
  stack = await startTestStack('limits');
});
afterAll(async () => {
  await stack?.stop();
});

const put = (key: string) => ({ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: 'x\n' } });
async function run(body: Record<string, unknown>, token = 'dev-operator') {
  const response = await api(stack, 'POST', '/runs', { token, body: { goal: 'limits', mode: 'APPLY', reasonForAccess: REASON, ...body } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return waitForRun(stack, response.body.runId);
}

describe('budgets, rate limits, change freezes and blast radius', () => {
  it('fails a task that runs past its time budget with BudgetExceeded', async () => {
    const finished = await run({ tasks: [{ action: 'noop', params: { sleepMs: 3000 } }] });
    expect(finished.status).toBe('ROLLED_BACK');
    expect(finished.error.name).toBe('BudgetExceeded');
    expect(finished.tasks[0].status).toBe('ROLLED_BACK');
  });

  it('holds a task back while its action is rate limited, and retries it once a token is free', async () => {
    const finished = await run({ tasks: [{ action: 'noop' }, { action: 'noop' }] });
    expect(finished.status).toBe('SUCCEEDED');
    const events = (await api(stack, 'GET', `/runs/${finished.id}/events`)).body.events as { type: string; taskIndex?: number }[];
    expect(events.some((event) => event.type === 'ApplyRateLimited')).toBe(true);
    expect(events.filter((event) => event.type === 'TaskApplied')).toHaveLength(2);
  });

  it('refuses a plan that changes more than the blast radius allows', async () => {
    const finished = await run({ mode: 'PLAN', tasks: [put('blast/1'), put('blast/2'), put('blast/3')] });
    expect(finished.status).toBe('DENIED');
    expect(finished.error.name).toBe('BlastRadiusExceeded');
  });

  it('refuses writes during a change freeze until an admin override with a justification is on record, audited', async () => {
    const frozen = await run({ tasks: [put('freeze/a.txt')] });
    expect(frozen.status).toBe('FAILED');
    expect(frozen.error.name).toBe('ChangeFreeze');

    const byOperator = await api(stack, 'POST', '/control/freeze-overrides', {
      body: { environment: 'dev', justification: 'hotfix for incident 77, approved by the CAB', until: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(byOperator.status).toBe(403);
    const unjustified = await api(stack, 'POST', '/control/freeze-overrides', {
      token: 'dev-admin',
      body: { environment: 'dev', justification: 'because', until: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(unjustified.status).toBe(400);
    expect(unjustified.body.error.field).toBe('justification');
    const granted = await api(stack, 'POST', '/control/freeze-overrides', {
      token: 'dev-admin',
      body: { environment: 'dev', justification: 'hotfix for incident 77, approved by the CAB', until: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(granted.status).toBe(200);

    expect((await run({ tasks: [put('freeze/b.txt')] })).status).toBe('SUCCEEDED');
    const control = (await api(stack, 'GET', '/control')).body;
    const audit = control.journal.find((event: { type: string }) => event.type === 'FreezeOverrideGranted');
    expect(audit).toMatchObject({ actor: 'dev-admin' });
    expect(audit.payload.justification).toContain('incident 77');
  });

  it('answers 429 with Retry-After once a principal has spent its tokens', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i += 1) {
      const response = await api(stack, 'POST', '/runs', { token: 'dev-admin', body: { goal: 'burst', mode: 'PLAN', tasks: [{ action: 'noop' }] } });
      statuses.push(response.status);
      if (response.status === 429) {
        retryAfter = response.headers.get('retry-after');
        expect(response.body.error.code).toBe('RateLimited');
      }
    }
    expect(statuses.filter((status) => status === 201)).toHaveLength(6);
    expect(statuses.slice(6)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('takes the egress allowlist from the guardrail file (checked without connecting)', async () => {
    const allowed = await api(stack, 'POST', '/egress/check', { token: 'dev-admin', body: { url: 'https://api.example.com/v1/items', environment: 'dev' } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ allowed: true, resolvedAddresses: ['93.184.216.34'] });
    const refused = await api(stack, 'POST', '/egress/check', { token: 'dev-admin', body: { url: 'https://other.example.com/', environment: 'dev' } });
    expect(refused.body.allowed).toBe(false);
  });
});
