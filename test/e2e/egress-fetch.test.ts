import { setTimeout as sleep } from 'node:timers/promises';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../support/egress-servers.ts';
import { C, DATA, O, canary, errorOf, origin, runFetches, stack, useEgressStack } from '../support/egress-fixture.ts';
import { api } from '../support/test-stack.ts';

useEgressStack('egress-fetch');

describe('the http.fetch action in runs', () => {
  it('fetches a licensed source and records provenance (URL, time, SHA-256, license)', async () => {
    const run = await runFetches({
      url: `http://origin.test:${O()}/open/data.json`,
      expect: { format: 'json', schema: { type: 'object', required: ['temperature'], properties: { temperature: { type: 'number' } } } },
    });
    expect(run.status, JSON.stringify(run.tasks[0].error)).toBe('SUCCEEDED');
    const outcome = run.tasks[0].outcome;
    expect(outcome.body).toBe(DATA);
    expect(outcome.provenance).toMatchObject({
      url: `http://origin.test:${O()}/open/data.json`,
      sha256: sha256(DATA),
      bytes: DATA.length,
      source: 'origin-open',
      license: 'CC-BY-4.0',
      attribution: 'Origin Test Data',
      address: '127.0.0.1',
    });
    expect(Date.parse(outcome.provenance.fetchedAt)).not.toBeNaN();
    // The task went to the function of its action class (in AWS the one on the egress path).
    const history = await new SFNClient({}).send(new GetExecutionHistoryCommand({ executionArn: run.executionArn, maxResults: 1000 }));
    const entered = (history.events ?? []).map((event) => event.stateEnteredEventDetails?.name).filter(Boolean);
    expect(entered).toContain('ApplyInternetTask');
    expect(entered).not.toContain('ApplyTask');
    expect(outcome.screening.flagged).toBe(false);
  });

  it('fails a response that does not match the expected schema', async () => {
    const run = await runFetches({ url: `http://origin.test:${O()}/open/data.json`, expect: { schema: { type: 'object', required: ['humidity'] } } });
    expect(run.status).not.toBe('SUCCEEDED');
    expect(run.tasks[0].error.message).toMatch(/does not match expect.schema/);
  });

  it('refuses blocked URLs and redirects with SsrfBlocked, and the canary is never reached', async () => {
    const direct = await runFetches({ url: `http://2130706433:${C()}/` });
    expect(errorOf(direct)).toBe('SsrfBlocked');
    const redirected = await runFetches({ url: `http://origin.test:${O()}/open/redirect?to=${encodeURIComponent(`http://127.0.0.1:${C()}/`)}` });
    expect(errorOf(redirected)).toBe('SsrfBlocked');
    const toMetadata = await runFetches({
      url: `http://origin.test:${O()}/open/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`,
    });
    expect(errorOf(toMetadata)).toBe('SsrfBlocked');
    expect(canary.connections).toBe(0);
    expect(canary.requests).toEqual([]);
  });

  it('refuses unlicensed sources with LicenseDenied before any request', async () => {
    const before = origin.requests.length;
    expect(errorOf(await runFetches({ url: `http://origin.test:${O()}/closed/data.json` }))).toBe('LicenseDenied');
    // origin.test has no catch-all source: only /open/ and /closed/ are registered for it.
    expect(errorOf(await runFetches({ url: `http://origin.test:${O()}/unregistered/data.json` }))).toBe('LicenseDenied');
    expect(origin.requests.length).toBe(before);
  });

  it('enforces the byte budget, the time budget and the request budget per run', async () => {
    expect(errorOf(await runFetches({ url: `http://origin.test:${O()}/open/big`, maxBytes: 1_000 }))).toBe('BudgetExceeded');
    const slow = await runFetches({ url: `http://origin.test:${O()}/open/slow`, timeoutMs: 200 });
    expect(errorOf(slow)).toBe('BudgetExceeded');
    expect(slow.tasks[0].error.message).toMatch(/time budget/);
    const fetch = { url: `http://origin.test:${O()}/open/data.json` };
    const overBudget = await runFetches(fetch, fetch, fetch, fetch);
    expect(overBudget.tasks.map((task: { status: string }) => task.status).slice(0, 3)).not.toContain('FAILED');
    expect(overBudget.tasks[3].error.name).toBe('BudgetExceeded');
    expect(overBudget.tasks[3].error.message).toMatch(/3 request/);
  });

  it('opens the circuit of a failing host after 2 failures and stops sending to it', async () => {
    const flaky = { url: `http://flaky.test:${O()}/open/flaky` };
    expect(errorOf(await runFetches(flaky))).toBe('ActionFailed');
    expect(errorOf(await runFetches(flaky))).toBe('ActionFailed');
    const sent = origin.requests.filter((path) => path === '/open/flaky').length;
    expect(sent).toBe(2);
    const refused = await runFetches(flaky);
    expect(errorOf(refused)).toBe('CircuitOpen');
    expect(origin.requests.filter((path) => path === '/open/flaky').length).toBe(sent);
    const { body } = await api(stack, 'GET', `/runs/${refused.id}/events`);
    const failed = body.events.find((event: { type: string }) => event.type === 'TaskFailed' || event.type === 'TaskPlanFailed');
    expect(failed.payload.error.name).toBe('CircuitOpen');
  });

  it('flags instruction-like content in fetched text, or refuses it when the task says so', async () => {
    const flagged = await runFetches({ url: `http://origin.test:${O()}/open/inject` });
    expect(flagged.status).toBe('SUCCEEDED');
    expect(flagged.tasks[0].outcome.screening.flagged).toBe(true);
    expect(flagged.tasks[0].outcome.screening.findings.map((f: { rule: string }) => f.rule)).toEqual(
      expect.arrayContaining(['override-instructions', 'tool-call-syntax']),
    );
    const refused = await runFetches({ url: `http://origin.test:${O()}/open/inject`, onInjection: 'fail' });
    expect(errorOf(refused)).toBe('InjectionSuspected');
    await sleep(0);
    expect(canary.connections).toBe(0);
  });
});
