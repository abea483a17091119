import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../../functions/actions/catalog.ts';
import type { ResourceRef } from '../../../functions/core/actions/resources.ts';
import { resolveGuardrails } from '../../../functions/core/config/guardrails.ts';
import type { Guardrails } from '../../../functions/core/config/guardrails.ts';
import { PolicyDenied, ResourceNotManaged, type ValidationFailed } from '../../../functions/core/errors.ts';
import { PolicyEngine } from '../../../functions/core/policy/policy-engine.ts';
import type { Run, Task } from '../../../functions/core/runs/model.ts';
import { policyGate, resourceGate } from '../../../functions/core/safety/gates.ts';
import type { SafetyDeps } from '../../../functions/core/safety/gates.ts';
import { assertManagedResources, tablePrefixOf } from '../../../functions/core/safety/managed-resources.ts';
import { loadPolicyEngine } from '../../../functions/handlers/shared/deps.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const shipped = parseYaml(readFileSync(join(ROOT, 'maestro.config.yaml'), 'utf8'));

const withManaged = (managedResources: unknown): Guardrails => resolveGuardrails({ environments: { dev: { managedResources }, prod: {} } }, {}, parseYaml);

function refusal(check: () => void) {
  try {
    check();
  } catch (error) {
    return error as Error;
  }
  throw new Error('accepted');
}
const write = (uri: string): ResourceRef => ({ uri, access: 'write' });

describe('managedResources in maestro.config.yaml', () => {
  it('ships the demo bucket, table, function, parameters and alarm for dev and prod', () => {
    const guardrails = resolveGuardrails(shipped, {}, parseYaml);
    for (const name of ['dev', 'prod'])
      expect(guardrails.environments[name].managedResources).toEqual({
        buckets: ['maestro-demo'],
        tables: ['maestro-demo'],
        functions: ['maestro-demo-fn'],
        parameters: ['/maestro-demo/'],
        alarms: ['maestro-demo-errors'],
      });
  });

  it("refuses at start-up a file that declares Maestro's own table, vault or queues, naming the key", () => {
    const field = (managedResources: unknown) => (refusal(() => withManaged(managedResources)) as ValidationFailed).field;
    expect(field({ tables: ['maestro-demo', 'maestro-state'] })).toBe('environments.dev.managedResources.tables[1]');
    expect(field({ tables: ['run-1a2b3c-maestro-state'] })).toBe('environments.dev.managedResources.tables[0]');
    expect(field({ buckets: ['maestro-artifacts'] })).toBe('environments.dev.managedResources.buckets[0]');
    expect(field({ buckets: [{ name: 'maestro-artifacts', prefixes: ['audit/'] }] })).toBe('environments.dev.managedResources.buckets[0].name');
    expect(field({ tables: ['maestro-outbox-dlq'] })).toBe('environments.dev.managedResources.tables[0]');
    expect(refusal(() => withManaged({ tables: ['maestro-state'] })).message).toMatch(/maestro-state is Maestro's state table/);
    // A key alias is no table or bucket name at all.
    expect(field({ tables: ['alias/maestro-approval-links'] })).toBe('environments.dev.managedResources.tables[0]');
    expect(field({ queues: ['x'] })).toBe('environments.dev.managedResources.queues');
  });

  it('defaults to nothing managed', () => {
    expect(withManaged(undefined).environments.prod.managedResources).toEqual({ buckets: [], tables: [], functions: [], parameters: [], alarms: [] });
  });
});

describe('the managed-resources check on functions, parameters and alarms', () => {
  const guardrails = withManaged({ functions: ['checkout'], parameters: ['/app/', '/shared/flag'], alarms: ['checkout-errors'] });
  const check = (uri: string, access: 'read' | 'write' = 'write') => assertManagedResources({ guardrails, environment: 'dev', resources: [{ uri, access }] });

  it('allows a declared function’s alias, a parameter by name or under a declared path, a declared alarm', () => {
    for (const uri of ['lambda://checkout:live', 'ssm:///app/flags/beta', 'ssm:///shared/flag']) expect(() => check(uri), uri).not.toThrow();
    expect(() => check('cloudwatch-alarm://checkout-errors', 'read')).not.toThrow();
  });

  it('refuses anything else, naming where to declare it', () => {
    for (const uri of ['lambda://payments:live', 'lambda://checkout', 'ssm:///apps/x', 'ssm:///shared/flag2', 'ssm:///app', 'cloudwatch-alarm://other']) {
      expect(
        refusal(() => check(uri)),
        uri,
      ).toBeInstanceOf(ResourceNotManaged);
    }
    expect(refusal(() => check('lambda://payments:live')).message).toMatch(/declare payments under environments\.dev\.managedResources\.functions/);
    expect(refusal(() => check('ssm:///x')).message).toMatch(/managedResources\.parameters/);
    expect(refusal(() => check('cloudwatch-alarm://other', 'read')).message).toMatch(/managedResources\.alarms/);
  });

  it("refuses Maestro's own functions at start-up and at the gate, whatever the file says", () => {
    expect((refusal(() => withManaged({ functions: ['maestro-run-apply-task'] })) as ValidationFailed).field).toBe(
      'environments.dev.managedResources.functions[0]',
    );
    expect((refusal(() => withManaged({ functions: ['maestro-api'] })) as ValidationFailed).field).toBe('environments.dev.managedResources.functions[0]');
    const declared = structuredClone(guardrails);
    declared.environments.dev.managedResources.functions = ['maestro-run-apply-task', 'maestro-dr-apply'];
    for (const uri of ['lambda://maestro-run-apply-task:live', 'lambda://maestro-dr-apply:x']) {
      const error = refusal(() => assertManagedResources({ guardrails: declared, environment: 'dev', resources: [write(uri)] }));
      expect(error.message, uri).toMatch(/Maestro's (run|DR) workflow functions/);
    }
  });
});

describe('the managed-resources check', () => {
  const guardrails = withManaged({ buckets: ['whole-bucket', { name: 'shared-bucket', prefixes: ['team-a/', 'public/'] }], tables: ['orders'] });
  const check = (uri: string, environment = 'dev', own = {}) => assertManagedResources({ guardrails, own, environment, resources: [write(uri)] });

  it('allows a resource inside the environment’s declarations', () => {
    expect(() => check('s3://whole-bucket/any/key')).not.toThrow();
    expect(() => check('s3://shared-bucket/team-a/x.txt')).not.toThrow();
    expect(() => check('dynamodb://orders')).not.toThrow();
    expect(() => check('dynamodb://orders/{"id":"1"}')).not.toThrow();
  });

  it('refuses one outside: another bucket, outside the prefixes, another table, another environment', () => {
    for (const [uri, environment] of [
      ['s3://other-bucket/x', 'dev'],
      ['s3://shared-bucket/team-b/x.txt', 'dev'],
      ['s3://shared-bucket/team-a', 'dev'],
      ['dynamodb://orders-archive', 'dev'],
      ['s3://whole-bucket/x', 'prod'],
      ['s3://whole-bucket/x', 'constructor'],
      ['s3://whole-bucket/x', '__proto__'],
    ]) {
      const error = refusal(() => check(uri, environment));
      expect(error, `${uri} in ${environment}`).toBeInstanceOf(ResourceNotManaged);
      expect((error as ResourceNotManaged).details).toMatchObject({ resource: uri, environment });
      expect((error as ResourceNotManaged).status).toBe(403);
      expect(error.name).toBe('ResourceNotManaged');
    }
    expect(refusal(() => check('s3://shared-bucket/team-b/x.txt')).message).toMatch(/declare shared-bucket under environments\.dev\.managedResources\.buckets/);
  });

  it('refuses kinds nobody can declare, and leaves URLs to the egress guard and restore jobs to the DR gate', () => {
    expect(refusal(() => check('sqs://queue'))).toBeInstanceOf(ResourceNotManaged);
    expect(refusal(() => check('garbage'))).toBeInstanceOf(ResourceNotManaged);
    expect(() => check('https://api.example.com/x')).not.toThrow();
    expect(() => check('dr-restore://job-1')).not.toThrow();
  });

  it("refuses Maestro's own resources even when an environment declares them", () => {
    // A configuration that bypassed the schema, and a deployment whose state table has a generated name.
    const declared = structuredClone(guardrails);
    declared.environments.dev.managedResources = {
      ...declared.environments.dev.managedResources,
      buckets: ['vault-xyz', 'maestro-artifacts'],
      tables: ['MaestroStack-StateTable1A2B', 'maestro-state'],
    };
    const own = { stateTable: 'MaestroStack-StateTable1A2B', artifactBucket: 'vault-xyz' };
    for (const uri of ['dynamodb://MaestroStack-StateTable1A2B', 'dynamodb://maestro-state', 's3://vault-xyz/audit/heads/r.json', 's3://maestro-artifacts/x']) {
      const error = refusal(() => assertManagedResources({ guardrails: declared, own, environment: 'dev', resources: [write(uri)] }));
      expect(error, uri).toBeInstanceOf(ResourceNotManaged);
      expect(error.message).toMatch(/Maestro's (state table|artifact vault)/);
    }
  });

  it("reads declared tables with the deployment's table prefix (the embedded stack's tablePrefix), and only that one", () => {
    expect(tablePrefixOf('run-1a2b3c-maestro-state')).toBe('run-1a2b3c-');
    expect(tablePrefixOf('MaestroStack-StateTable1A2B')).toBe('');
    const own = { stateTable: 'run-1a2b3c-maestro-state' };
    expect(() => check('dynamodb://run-1a2b3c-orders', 'dev', own)).not.toThrow();
    expect(refusal(() => check('dynamodb://other-orders', 'dev', own))).toBeInstanceOf(ResourceNotManaged);
    expect(refusal(() => check('dynamodb://run-1a2b3c-orders', 'dev', {}))).toBeInstanceOf(ResourceNotManaged);
    expect(refusal(() => check('dynamodb://run-1a2b3c-maestro-state', 'dev', own))).toBeInstanceOf(ResourceNotManaged);
  });
});

describe('the plan gate on declared resources', () => {
  const catalog = defaultCatalog();
  const now = new Date('2026-12-01T12:00:00Z');
  const run = {
    id: 'r1',
    environment: 'dev',
    mode: 'APPLY',
    autonomy: 3,
    requestedBy: 'alice',
    requesterRoles: ['operator'],
    reasonForAccess: 'a reason long enough',
  } as Run;
  const control = { killSwitch: { engaged: false } };
  const depsWith = (policy: PolicyEngine): SafetyDeps => ({
    guardrails: withManaged({ buckets: ['maestro-demo'], tables: ['maestro-demo', 'audit-log'] }),
    policy,
    control: undefined as never,
    rateLimiter: undefined as never,
  });
  const gate = (deps: SafetyDeps, action: string, params: unknown) =>
    resourceGate(deps, { gate: 'plan', run, task: { index: 0, action, params } as Task, action: catalog.get(action), params, control, now });

  it('refuses the state table before any plan, and passes a managed resource', () => {
    const deps = depsWith(loadPolicyEngine(join(ROOT, 'policies')));
    expect(refusal(() => gate(deps, 'dynamodb.put-item', { table: 'maestro-state', item: { pk: 'CONTROL', sk: 'CONTROL' } }))).toBeInstanceOf(
      ResourceNotManaged,
    );
    expect(gate(deps, 'dynamodb.put-item', { table: 'maestro-demo', item: { id: 'x' } })).toEqual([{ uri: 'dynamodb://maestro-demo', access: 'write' }]);
  });

  it('checks again at the apply gate (a backstop for a plan recorded before the configuration changed)', () => {
    const deps = depsWith(loadPolicyEngine(join(ROOT, 'policies')));
    const params = { bucket: 'maestro-artifacts', key: 'audit/heads/r.json', body: '{}' };
    const task = { index: 0, action: 's3.put-object', params, plan: { resource: 's3://maestro-artifacts/audit/heads/r.json' } } as unknown as Task;
    const error = refusal(() => policyGate(deps, { gate: 'apply', run, task, action: catalog.get('s3.put-object'), plan: task.plan!, control, now }));
    expect(error).toBeInstanceOf(ResourceNotManaged);
    expect((error as ResourceNotManaged).details).toMatchObject({
      resource: 's3://maestro-artifacts/audit/heads/r.json',
      access: 'write',
      kind: 's3',
      environment: 'dev',
    });
  });

  it('holds the planned resource to the managed set too (an action that declares too little)', () => {
    const deps = depsWith(loadPolicyEngine(join(ROOT, 'policies')));
    const params = { bucket: 'maestro-demo', key: 'a.txt', body: 'x' };
    const task = { index: 0, action: 's3.put-object', params } as unknown as Task;
    const plan = { resource: 'dynamodb://maestro-state/{"pk":"CONTROL","sk":"CONTROL"}' } as never;
    expect(refusal(() => policyGate(deps, { gate: 'plan', run, task, action: catalog.get('s3.put-object'), plan, control, now }))).toBeInstanceOf(
      ResourceNotManaged,
    );
    expect(() =>
      policyGate(deps, {
        gate: 'plan',
        run,
        task,
        action: catalog.get('s3.put-object'),
        plan: { resource: 'dynamodb://maestro-demo/{"id":"x"}' } as never,
        control,
        now,
      }),
    ).not.toThrow();
  });

  it('lets Cedar narrow further on the kind, id and access of each declared resource', () => {
    const schema = readFileSync(join(ROOT, 'policies/schema.cedarschema'), 'utf8');
    const policies = `${readFileSync(join(ROOT, 'policies/maestro.cedar'), 'utf8')}
@id("audit-log-is-append-only-by-hand")
forbid (principal, action, resource)
when { resource.kind == "dynamodb" && resource.id == "audit-log" && resource.access == "write" };`;
    const deps = depsWith(new PolicyEngine({ schema, policies }));
    const denied = refusal(() => gate(deps, 'dynamodb.put-item', { table: 'audit-log', item: { id: 'x' } }));
    expect(denied).toBeInstanceOf(PolicyDenied);
    expect((denied as PolicyDenied).details?.policyIds).toEqual(['audit-log-is-append-only-by-hand']);
    expect(() => gate(deps, 'dynamodb.put-item', { table: 'maestro-demo', item: { id: 'x' } })).not.toThrow();
  });
});
