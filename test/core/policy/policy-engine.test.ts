import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyEngine } from '../../../functions/core/policy/policy-engine.ts';
import type { PolicyRequest } from '../../../functions/core/policy/policy-engine.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SCHEMA = readFileSync(join(ROOT, 'policies/schema.cedarschema'), 'utf8');
const POLICIES = readFileSync(join(ROOT, 'policies/maestro.cedar'), 'utf8');

type Overrides = {
  roles?: string[];
  onBehalfOf?: string;
  action?: 'plan' | 'apply';
  key?: string;
  context?: Partial<PolicyRequest['context']> & Record<string, unknown>;
};
const request = (overrides: Overrides = {}): PolicyRequest => ({
  principal: { id: 'someone', roles: overrides.roles ?? ['operator'], ...(overrides.onBehalfOf !== undefined ? { onBehalfOf: overrides.onBehalfOf } : {}) },
  action: overrides.action ?? 'apply',
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
    now: new Date('2026-12-02T05:00:00Z'),
    ...overrides.context,
  } as PolicyRequest['context'],
});

/** A small deterministic generator, so a failure names a request that comes back. */
function* requests(count: number): Generator<PolicyRequest> {
  let seed = 7;
  const pick = <T>(values: readonly T[]): T => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return values[seed % values.length];
  };
  for (let i = 0; i < count; i += 1) {
    yield request({
      roles: pick([[], ['operator'], ['admin'], ['operator', 'admin'], ['viewer'], ['operator', 'operator']]),
      onBehalfOf: pick([undefined, 'alice']),
      action: pick(['plan', 'apply'] as const),
      key: pick(['notes/a.txt', 'protected/x', 'protected']),
      context: {
        category: pick(['READ', 'WRITE', 'DEPLOY', 'ROLLBACK']),
        environment: pick(['dev', 'prod']),
        autonomy: pick([0, 1, 3]),
        reason: pick(['', '  ', 'a real reason']),
        killSwitch: pick([false, true]),
        approved: pick([false, true]),
        inputFlagged: pick([false, true, undefined]),
        now: pick([new Date('2026-12-02T05:00:00Z'), new Date('2026-12-02T23:00:00Z')]),
      },
    });
  }
}

/** The decision of an engine that has seen nothing: every request validated against the schema. */
const validatedAlone = (options: { schema: string; policies: string }, input: PolicyRequest) => new PolicyEngine(options).authorize(input);

describe('the policy engine validates a request shape once', () => {
  it('decides 200 requests exactly as an engine that validates each one (allow, deciding policies, errors)', () => {
    const options = { schema: SCHEMA, policies: POLICIES };
    const engine = new PolicyEngine(options);
    let allowed = 0;
    for (const input of requests(200)) {
      const decision = engine.authorize(input);
      expect(decision, JSON.stringify(input)).toEqual(validatedAlone(options, input));
      if (decision.allowed) allowed += 1;
    }
    // Not vacuous: both answers occur, and the engine did skip validation for shapes it had seen.
    expect(allowed).toBeGreaterThan(20);
    expect(allowed).toBeLessThan(180);
    expect(engine.validatedShapes).toBeGreaterThan(0);
    expect(engine.validatedShapes).toBeLessThan(20);
    // And it reused decisions for requests the policies cannot tell apart (decision-keys.ts).
    expect(engine.reusedDecisions).toBeGreaterThan(0);
  });

  it('still decides on every attribute a policy reads, by value, once the shape is known', () => {
    const policies = `${POLICIES}
@id("no-friday-reason")
forbid (principal, action, resource) when { context.reason like "*friday*" };
@id("agents-of-mallory")
forbid (principal, action, resource) when { principal has onBehalfOf && principal.onBehalfOf == "mallory" };
@id("late-hours")
forbid (principal, action, resource) when { context.hourUtc >= 22 && context.mode == "APPLY" };
@id("uri-and-id")
forbid (principal, action, resource) when { resource.uri like "*/secret*" || resource.id like "*/secret*" };
@id("needs-the-hour")
forbid (principal, action, resource) unless { context has hourUtc };`;
    const options = { schema: SCHEMA, policies };
    const engine = new PolicyEngine(options);
    const cases: [Overrides, string | undefined][] = [
      [{}, undefined],
      [{ context: { reason: 'it is friday' } }, 'no-friday-reason'],
      [{ onBehalfOf: 'alice' }, undefined],
      [{ onBehalfOf: 'mallory' }, 'agents-of-mallory'],
      [{ context: { now: new Date('2026-12-02T22:30:00Z') } }, 'late-hours'],
      [{ context: { now: new Date('2026-12-02T22:30:00Z'), mode: 'PLAN' } }, undefined],
      [{ key: 'secret/x' }, 'uri-and-id'],
      [{}, undefined],
    ];
    for (const [overrides, forbiddenBy] of [...cases, ...cases]) {
      const input = request(overrides);
      const decision = engine.authorize(input);
      expect(decision, JSON.stringify(overrides)).toEqual(validatedAlone(options, input));
      expect(decision.allowed).toBe(forbiddenBy === undefined);
      if (forbiddenBy) expect(decision.policyIds).toEqual([forbiddenBy]);
    }
    expect(engine.validatedShapes).toBeGreaterThan(0);
  });

  it('refuses a value of the wrong kind every time, after a well-formed request of the same attributes was seen', () => {
    const options = { schema: SCHEMA, policies: POLICIES };
    const engine = new PolicyEngine(options);
    expect(engine.authorize(request()).allowed).toBe(true);
    expect(engine.authorize(request()).allowed).toBe(true);
    for (const autonomy of ['3', 2.5, Number.NaN, true, null] as unknown as number[]) {
      for (let i = 0; i < 2; i += 1) {
        const input = request({ context: { autonomy } });
        const decision = engine.authorize(input);
        expect(decision.allowed, String(autonomy)).toBe(false);
        expect(decision).toEqual(validatedAlone(options, input));
      }
    }
    // Beyond a safe integer: validated each time (Cedar's Long takes it), as an engine that has seen nothing decides.
    const large = request({ context: { autonomy: 2 ** 60 } });
    expect(engine.authorize(large)).toEqual(validatedAlone(options, large));
    // A principal listed twice in one role: Cedar refuses the duplicate entity, with or without a known shape.
    const twice = request({ roles: ['admin', 'admin'], key: 'protected/x' });
    expect(engine.authorize(twice)).toEqual(validatedAlone(options, twice));
  });

  it('follows a principal whose roles change between decisions (the entity cache is keyed by the roles)', () => {
    const engine = new PolicyEngine({ schema: SCHEMA, policies: POLICIES });
    expect(engine.authorize(request({ roles: ['operator'], key: 'protected/x' })).allowed).toBe(false);
    expect(engine.authorize(request({ roles: ['operator', 'admin'], key: 'protected/x' })).allowed).toBe(true);
    expect(engine.authorize(request({ roles: ['operator'], key: 'protected/x' })).allowed).toBe(false);
    expect(engine.authorize(request({ roles: [], key: 'notes/a.txt' })).allowed).toBe(false);
    expect(engine.authorize(request({ roles: ['operator'], key: 'notes/a.txt' })).allowed).toBe(true);
  });

  it('validates every request when the schema has action groups or enumerated roles', () => {
    const grouped = SCHEMA.replace('action "plan", "apply" appliesTo', 'action "changes";\n  action "plan", "apply" in ["changes"] appliesTo');
    const enumerated = SCHEMA.replace('entity Role;', 'entity Role enum ["operator", "admin"];');
    const forbidChanges = `${POLICIES}
@id("no-changes")
forbid (principal, action in Maestro::Action::"changes", resource) when { context.environment == "frozen" };`;
    for (const options of [
      { schema: grouped, policies: forbidChanges },
      { schema: enumerated, policies: POLICIES },
    ]) {
      const engine = new PolicyEngine(options);
      for (const overrides of [
        {},
        {},
        { roles: ['viewer'] },
        { roles: ['viewer', 'admin'] },
        { context: { environment: 'frozen' } },
        { context: { environment: 'frozen' } },
      ]) {
        const input = request(overrides);
        expect(engine.authorize(input)).toEqual(validatedAlone(options, input));
      }
      expect(engine.validatedShapes).toBe(0);
    }
    const frozen = new PolicyEngine({ schema: grouped, policies: forbidChanges });
    expect(frozen.authorize(request({ context: { environment: 'frozen' } }))).toMatchObject({ allowed: false, policyIds: ['no-changes'] });
    expect(frozen.authorize(request({ context: { environment: 'frozen' } }))).toMatchObject({ allowed: false, policyIds: ['no-changes'] });
  });
});

describe('the policy engine reuses a decision only for requests the policies cannot tell apart', () => {
  const keys = [
    'notes/a.txt',
    'notes/b.txt',
    'notes/a',
    'protected/x',
    'protected',
    'x/one.txt',
    'x/two.txt',
    'x/secret-plan.txt',
    'a*b',
    'axb',
    'x/é.txt',
    'x/\u{1F600}.txt',
    'x/a\nb.txt',
    'x/lone\uD800.txt',
    'reasoned',
  ];
  // A lone surrogate is not valid JSON to Cedar, which throws: the same with or without reuse.
  const outcome = (decide: () => unknown) => {
    try {
      return decide();
    } catch (error) {
      return { threw: (error as Error).message };
    }
  };
  const decideAll = (options: { schema: string; policies: string }) => {
    const engine = new PolicyEngine(options);
    for (let round = 0; round < 2; round += 1) {
      for (const [index, key] of keys.entries()) {
        for (const roles of [['operator'], ['admin']]) {
          const input = request({ key, roles, context: { reason: index % 2 === 1 ? 'reasoned' : 'a real reason' } });
          expect(
            outcome(() => engine.authorize(input)),
            `${key} ${roles}`,
          ).toEqual(outcome(() => validatedAlone(options, input)));
        }
      }
    }
    return engine;
  };

  it('decides tasks on new resources of the shipped policies from earlier decisions, protected keys still denied', () => {
    const engine = decideAll({ schema: SCHEMA, policies: POLICIES });
    expect(engine.reusedDecisions).toBeGreaterThan(keys.length);
    const denied = engine.authorize(request({ key: 'protected/late' }));
    expect(denied).toEqual({ allowed: false, policyIds: ['protected-keys-are-admin-only'], errors: [] });
    expect(engine.authorize(request({ key: 'protected/later', roles: ['admin'] })).allowed).toBe(true);
  });

  it('keeps whatever a policy observes whole: the uid through ==, in and literals, values compared with other values or in sets', () => {
    const observing = [
      'forbid (principal, action, resource) when { resource == Maestro::Resource::"s3://maestro-demo/x/one.txt" };',
      'forbid (principal, action, resource in Maestro::Resource::"s3://maestro-demo/x/two.txt");',
      'forbid (principal, action, resource) when { resource is Maestro::Resource && context.reason == "x" };',
      'forbid (principal, action, resource) when { Maestro::Resource::"s3://maestro-demo/x/one.txt" has key };',
      'forbid (principal, action, resource) when { resource has key && (resource.key == context.reason) };',
      'forbid (principal, action, resource) when { resource has key && resource.key == "notes/a" };',
      'forbid (principal, action, resource) when { resource has key && (["x/two.txt", "axb"].contains(resource.key)) };',
      'forbid (principal, action, resource) when { resource.uri like "*/one.txt" || resource.id == "maestro-demo/x/two.txt" };',
      'forbid (principal, action, resource) when { resource has key && (resource.key like "*secret*" || resource.key like "a\\*b") };',
      'forbid (principal, action, resource) when { resource has key && (resource.key like "x/*.txt" && !(resource.key like "x/?.txt") && resource.key != "x/one.txt") };',
      'forbid (principal, action, resource) when { resource has key && (resource.key like "*é*" || resource.key like "x/?.txt") };',
    ];
    for (const [index, policy] of observing.entries()) {
      const engine = decideAll({ schema: SCHEMA, policies: `${POLICIES}\n@id("observes-${index}")\n${policy}` });
      // Not vacuous: the second round's requests at least are the first round's again.
      expect(engine.reusedDecisions, policy).toBeGreaterThan(0);
    }
  });
});
