import { describe, expect, it } from 'vitest';
import { LicenseRegistry } from '../../../functions/core/egress/license-registry.ts';
import { EgressLimits, RunBudgetLedger } from '../../../functions/core/egress/run-budget-ledger.ts';
import { EgressAllowlists, egressPolicyFor } from '../../../functions/core/egress/policy.ts';
import { BudgetExceeded, LicenseDenied } from '../../../functions/core/errors.ts';
import { loadConfig as loadHandlerConfig } from '../../../functions/handlers/shared/config.ts';

describe('LicenseRegistry', () => {
  const registry = new LicenseRegistry([
    { id: 'open-data', urlPrefix: 'https://data.example.com/', license: 'CC-BY-4.0', automatedAccess: true },
    { id: 'paid', urlPrefix: 'https://data.example.com/premium/', license: 'proprietary', automatedAccess: false },
  ]);

  it('finds the source by its longest URL prefix', () => {
    expect(registry.require('https://data.example.com/weather.json').id).toBe('open-data');
    expect(registry.sourceOf('https://data.example.com/premium/x')?.id).toBe('paid');
  });

  it('refuses unregistered sources and terms without automated access with LicenseDenied', () => {
    expect(() => registry.require('https://other.example.com/')).toThrow(LicenseDenied);
    expect(() => registry.require('https://data.example.com/premium/x')).toThrow(/does not allow automated access/);
    // A look-alike host is not the registered prefix.
    expect(() => registry.require('https://data.example.com.evil.test/')).toThrow(LicenseDenied);
  });
});

describe('RunBudgetLedger', () => {
  const limits = EgressLimits.parse({ requestsPerRun: 2, bytesPerRun: 100, timeMsPerRun: 1_000 });

  it('counts requests per run and refuses the one over budget', () => {
    const ledger = new RunBudgetLedger(limits);
    ledger.chargeRequest('r1');
    ledger.chargeRequest('r1');
    expect(() => ledger.chargeRequest('r1')).toThrow(BudgetExceeded);
    expect(ledger.spent('r1').requests).toBe(2);
    expect(() => ledger.chargeRequest('r2')).not.toThrow();
  });

  it('tracks bytes and time and refuses a fetch when nothing is left', () => {
    const ledger = new RunBudgetLedger(limits);
    ledger.record('r1', { bytes: 60, timeMs: 10 });
    expect(ledger.remainingBytes('r1')).toBe(40);
    ledger.record('r1', { bytes: 40, timeMs: 10 });
    expect(() => ledger.assertHeadroom('r1')).toThrow(/received its 100 bytes/);
    ledger.record('r2', { bytes: 0, timeMs: 1_000 });
    expect(() => ledger.assertHeadroom('r2')).toThrow(/1000 ms/);
  });
});

describe('egress configuration', () => {
  const env = (extra: Record<string, string>) => ({ MAESTRO_STATE_TABLE: 'maestro-state', ...extra });

  it('defaults to an empty allowlist: nothing is reachable', () => {
    const config = loadHandlerConfig(env({}));
    expect(config.egress.allowlists).toEqual({});
    expect(egressPolicyFor(config.egress.allowlists, 'dev').hosts).toEqual([]);
    expect(config.egress.limits.requestsPerRun).toBe(20);
  });

  it('reads MAESTRO_EGRESS_ALLOWLIST and names the key when it is wrong', () => {
    const config = loadHandlerConfig(env({ MAESTRO_EGRESS_ALLOWLIST: '{"dev":["api.example.com"]}' }));
    expect(egressPolicyFor(config.egress.allowlists, 'dev')).toMatchObject({ allowHttp: false, hosts: [{ pattern: 'api.example.com' }] });
    expect(() => loadHandlerConfig(env({ MAESTRO_EGRESS_ALLOWLIST: 'not json' }))).toThrow(/MAESTRO_EGRESS_ALLOWLIST: must be JSON/);
    expect(() => loadHandlerConfig(env({ MAESTRO_EGRESS_ALLOWLIST: '{"dev":[{"host":"x","allowAddresses":["nope"]}]}' }))).toThrow(
      /MAESTRO_EGRESS_ALLOWLIST: dev.*must be an IP address or CIDR range/,
    );
    expect(() => loadHandlerConfig(env({ MAESTRO_EGRESS_LIMITS: '{"requestsPerRun":0}' }))).toThrow(/MAESTRO_EGRESS_LIMITS/);
  });

  it('refuses unknown keys in an entry (a typo fails at once)', () => {
    expect(EgressAllowlists.safeParse({ dev: [{ host: 'a', port: [443] }] }).success).toBe(false);
  });
});
