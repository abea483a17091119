import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveGuardrails } from '../../functions/core/config/guardrails.ts';
import { canonicalJson } from '../../functions/core/canonical-json.ts';
import { redact } from '../../functions/core/telemetry/redaction.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack } from '../support/test-stack.ts';

// Caller strings that name Object.prototype members: looked up as data in a plain object they find
// inherited functions (a 500, or a check passed). Every surface must answer them with a 4xx.
const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'] as const;

let stack: EmbeddedStack;
beforeAll(async () => {
  stack = await startTestStack('own-props');
});
afterAll(async () => {
  await stack?.stop();
});

/** What a bad name could have changed: the runs, the control record, the DR jobs of the demo target. */
async function snapshot() {
  return {
    runs: (await api(stack, 'GET', '/runs?limit=100')).body.runs.length,
    control: (await api(stack, 'GET', '/control')).body.killSwitch,
    overrides: (await api(stack, 'GET', '/control')).body.freezeOverrides.length,
  };
}

describe('caller strings never find inherited properties', () => {
  it('answers every surface with a 4xx (0 × 5xx) and changes nothing', async () => {
    const before = await snapshot();
    const statuses: { what: string; status: number }[] = [];
    const note = (what: string, status: number) => statuses.push({ what, status });
    const run = (extra: Record<string, unknown>) => ({
      goal: 'own properties',
      mode: 'PLAN',
      reasonForAccess: 'fuzz',
      tasks: [{ action: 'noop', params: {} }],
      ...extra,
    });
    for (const name of NAMES) {
      const segment = encodeURIComponent(name);
      note(`token ${name}`, (await api(stack, 'GET', '/runs', { token: name })).status);
      note(`environment ${name}`, (await api(stack, 'POST', '/runs', { body: run({ environment: name }) })).status);
      note(
        `freeze override environment ${name}`,
        (
          await api(stack, 'POST', '/control/freeze-overrides', {
            token: 'dev-admin',
            body: { environment: name, justification: 'fuzzing the environment name', until: new Date(Date.now() + 3_600_000).toISOString() },
          })
        ).status,
      );
      note(`action ${name}`, (await api(stack, 'POST', '/runs', { body: run({ tasks: [{ action: name, params: {} }] }) })).status);
      note(`route /${name}`, (await api(stack, 'GET', `/${segment}`)).status);
      note(`route /runs/${name}`, (await api(stack, 'GET', `/runs/${segment}`)).status);
      note(`route /runs/${name}/events`, (await api(stack, 'GET', `/runs/${segment}/events`)).status);
      note(`route /runs/${name}/audit/verify`, (await api(stack, 'GET', `/runs/${segment}/audit/verify`)).status);
      note(`route POST /runs/${name}/cancel`, (await api(stack, 'POST', `/runs/${segment}/cancel`, { body: {} })).status);
      note(`route POST /runs/${name}/approve`, (await api(stack, 'POST', `/runs/${segment}/approve`, { token: 'dev-approver', body: {} })).status);
      note(`route /approvals/${name}`, (await fetch(`${stack.endpoints.api}/approvals/${segment}`)).status);
      note(
        `route POST /approvals/${name}`,
        (
          await fetch(`${stack.endpoints.api}/approvals/${segment}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'decision=approve',
          })
        ).status,
      );
      note(`route /dr/status/${name}`, (await api(stack, 'GET', `/dr/status/${segment}`)).status);
      note(`DR target ${name} (path)`, (await api(stack, 'GET', `/dr/targets/${segment}`)).status);
      note(
        `DR target ${name} (backup)`,
        (await api(stack, 'POST', '/dr/backup', { token: 'dev-admin', body: { target: name, reason: 'fuzzing the target name' } })).status,
      );
      note(
        `DR target ${name} (restore)`,
        (await api(stack, 'POST', '/dr/restore', { token: 'dev-admin', body: { target: name, reason: 'fuzzing the target name' } })).status,
      );
      note(`query ${name}`, (await api(stack, 'GET', `/runs?${segment}=1`)).status);
      note(`query since ${name}`, (await api(stack, 'GET', `/slo?since=${segment}`)).status);
    }
    const serverErrors = statuses.filter((entry) => entry.status >= 500);
    expect(serverErrors).toEqual([]);
    // Every one is refused (a query parameter the operation ignores is the only 200).
    const accepted = statuses.filter((entry) => entry.status < 400 && !entry.what.startsWith('query '));
    expect(accepted).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a MAESTRO_CONFIG__ override whose path names an inherited member, naming the variable', () => {
    const file = { defaultEnvironment: 'dev', environments: { dev: {} } };
    const parse = (text: string) => JSON.parse(text) as unknown;
    for (const name of NAMES.filter((n) => n !== '__proto__')) {
      expect(() => resolveGuardrails(file, { [`MAESTRO_CONFIG__${name}__polluted`]: 'true' }, parse), name).toThrow(
        new RegExp(`MAESTRO_CONFIG__${name}__polluted`),
      );
      expect(() => resolveGuardrails(file, { [`MAESTRO_CONFIG__environments__${name}`]: '{}' }, parse), name).toThrow(/cannot be a configuration key/);
    }
    expect(() => resolveGuardrails(file, { MAESTRO_CONFIG__constructor__prototype__polluted: 'true' }, parse)).toThrow(/cannot be a configuration key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(resolveGuardrails(file, { MAESTRO_CONFIG__environments__dev__autonomyCeiling: '1' }, parse).environments.dev.autonomyCeiling).toBe(1);
  });

  it('keeps a member named __proto__ as data in canonical JSON (so it is hashed) and in redacted copies', () => {
    const value = JSON.parse('{"b": 1, "__proto__": {"hidden": true}}') as Record<string, unknown>;
    expect(canonicalJson(value)).toBe('{"__proto__":{"hidden":true},"b":1}');
    expect(Object.hasOwn(redact(value, 'logs'), '__proto__')).toBe(true);
  });
});
