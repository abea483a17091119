import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { resolveGuardrails } from '../../../functions/core/config/guardrails.ts';
import { ValidationFailed } from '../../../functions/core/errors.ts';
import { appliesUnattended, effectiveAutonomy } from '../../../functions/core/safety/autonomy.ts';
import { checkReasonForAccess } from '../../../functions/core/safety/reason-for-access.ts';
import { loadConfig } from '../../../functions/handlers/shared/config.ts';
import { loadPolicyEngine } from '../../../functions/handlers/shared/deps.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const shipped = parseYaml(readFileSync(join(ROOT, 'maestro.config.yaml'), 'utf8'));

describe('maestro.config.yaml', () => {
  it('ships safe defaults: prod plan-only, tracing on, kill switch off', () => {
    const guardrails = resolveGuardrails(shipped, {}, parseYaml);
    expect(guardrails.environments.prod.autonomyCeiling).toBe(0);
    expect(guardrails.environments.dev.autonomyCeiling).toBe(3);
    expect(guardrails.tracing.enabled).toBe(true);
    expect(guardrails.killSwitch.engaged).toBe(false);
  });

  it('takes per-environment egress allowlists, refusing a malformed one by its key', () => {
    const guardrails = resolveGuardrails(
      shipped,
      { MAESTRO_CONFIG__environments__dev__egress: '[api.example.com, {host: localhost, ports: [8443], allowAddresses: [127.0.0.1/32]}]' },
      parseYaml,
    );
    expect(guardrails.environments.dev.egress).toEqual(['api.example.com', { host: 'localhost', ports: [8443], allowAddresses: ['127.0.0.1/32'] }]);
    expect(() => resolveGuardrails(shipped, { MAESTRO_CONFIG__environments__dev__egress: '[{host: x, allowAddresses: [not-an-ip]}]' }, parseYaml)).toThrow(
      /environments\.dev\.egress/,
    );
  });

  it('defaults an environment without a ceiling to autonomy 0', () => {
    expect(resolveGuardrails({ environments: { dev: {} } }, {}, parseYaml).environments.dev.autonomyCeiling).toBe(0);
  });

  it('lets MAESTRO_CONFIG__ variables override single keys', () => {
    const guardrails = resolveGuardrails(
      shipped,
      { MAESTRO_CONFIG__environments__prod__autonomyCeiling: '1', MAESTRO_CONFIG__tracing__enabled: 'false' },
      parseYaml,
    );
    expect(guardrails.environments.prod.autonomyCeiling).toBe(1);
    expect(guardrails.tracing.enabled).toBe(false);
  });

  it('refuses a bad file, naming the key', () => {
    const refuse = (content: unknown, env: Record<string, string> = {}) => {
      try {
        resolveGuardrails(content, env, parseYaml);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationFailed);
        return (error as ValidationFailed).field;
      }
      throw new Error('accepted a bad configuration');
    };
    expect(refuse(shipped, { MAESTRO_CONFIG__environments__prod__autonomyCeiling: '7' })).toBe('environments.prod.autonomyCeiling');
    expect(refuse({ ...shipped, defaultEnvironment: 'staging' })).toBe('defaultEnvironment');
    expect(refuse({ ...shipped, killswitch: { engaged: true } })).toBe('killswitch');
    expect(refuse({ environments: {} })).toBe('environments');
  });

  it('makes start-up fail with the file and key named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-config-'));
    const file = join(dir, 'maestro.config.yaml');
    writeFileSync(file, 'environments:\n  prod:\n    autonomyCeiling: high\n');
    expect(() => loadConfig({ MAESTRO_CONFIG_FILE: file, MAESTRO_STATE_TABLE: 'maestro-state' })).toThrow(
      /maestro\.config\.yaml.*environments\.prod\.autonomyCeiling/,
    );
  });
});

describe('autonomy and reasons', () => {
  it('caps a run at its environment ceiling and at 0 under the kill switch', () => {
    expect(effectiveAutonomy(3, 1, false)).toBe(1);
    expect(effectiveAutonomy(undefined, 2, false)).toBe(2);
    expect(effectiveAutonomy(3, 3, true)).toBe(0);
  });

  it('lets categories apply unattended only at their level', () => {
    expect(appliesUnattended('READ', 1, false)).toBe(true);
    expect(appliesUnattended('WRITE', 1, false)).toBe(false);
    expect(appliesUnattended('WRITE', 2, false)).toBe(true);
    expect(appliesUnattended('DEPLOY', 2, false)).toBe(false);
    expect(appliesUnattended('WRITE', 3, true)).toBe(false);
    expect(appliesUnattended('READ', 0, false)).toBe(false);
  });

  it('refuses missing, short and placeholder reasons', () => {
    expect(() => checkReasonForAccess(undefined, 10)).toThrow(ValidationFailed);
    expect(() => checkReasonForAccess('fix', 10)).toThrow(/at least 10/);
    expect(() => checkReasonForAccess('placeholder', 5)).toThrow(/placeholder/);
    expect(checkReasonForAccess('  rotate the TLS certificate  ', 10)).toBe('rotate the TLS certificate');
  });
});

describe('the shipped Cedar policies', () => {
  const engine = loadPolicyEngine(join(ROOT, 'policies'));
  const request = (overrides: { roles?: string[]; action?: 'plan' | 'apply'; key?: string; context?: Record<string, unknown> } = {}) => ({
    principal: { id: 'someone', roles: overrides.roles ?? ['operator'] },
    action: overrides.action ?? ('apply' as const),
    resource: { uri: `s3://maestro-demo/${overrides.key ?? 'notes/a.txt'}`, kind: 's3', bucket: 'maestro-demo', key: overrides.key ?? 'notes/a.txt' },
    context: {
      catalogAction: 's3.put-object',
      category: 'WRITE',
      mode: 'APPLY',
      environment: 'dev',
      autonomy: 3,
      reason: 'a real reason',
      killSwitch: false,
      approved: false,
      now: new Date(),
      ...overrides.context,
    },
  });

  it('allows operators to write with a reason, and names the permitting policy', () => {
    expect(engine.authorize(request())).toMatchObject({ allowed: true, policyIds: ['operators-may-change-with-a-reason'] });
  });
  it('denies writes without a reason', () => {
    expect(engine.authorize(request({ context: { reason: '' } })).allowed).toBe(false);
  });
  it('keeps protected/ admin-only', () => {
    expect(engine.authorize(request({ key: 'protected/x' }))).toMatchObject({ allowed: false, policyIds: ['protected-keys-are-admin-only'] });
    expect(engine.authorize(request({ key: 'protected/x', roles: ['operator', 'admin'] })).allowed).toBe(true);
  });
  it('forbids unattended applies at autonomy 0 in prod, allows them once approved, and allows planning', () => {
    const prod = { environment: 'prod', autonomy: 0 };
    expect(engine.authorize(request({ context: prod }))).toMatchObject({ allowed: false, policyIds: ['nothing-unattended-at-autonomy-0-in-prod'] });
    expect(engine.authorize(request({ context: { ...prod, approved: true } })).allowed).toBe(true);
    expect(engine.authorize(request({ action: 'plan', context: prod })).allowed).toBe(true);
  });
  it('forbids every apply under the kill switch, even for admins', () => {
    expect(engine.authorize(request({ roles: ['admin'], context: { killSwitch: true } }))).toMatchObject({
      allowed: false,
      policyIds: ['kill-switch-stops-applies'],
    });
  });
  it('forbids applying a run whose inputs were flagged until a human approves it', () => {
    expect(engine.authorize(request({ context: { inputFlagged: true } }))).toMatchObject({ allowed: false, policyIds: ['flagged-input-needs-approval'] });
    expect(engine.authorize(request({ context: { inputFlagged: true, approved: true } })).allowed).toBe(true);
  });
  it('denies principals with no role at all', () => {
    expect(engine.authorize(request({ roles: [] })).allowed).toBe(false);
  });
});
