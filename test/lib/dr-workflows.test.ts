import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ArtifactVault } from '../../lib/artifact-vault.ts';
import { DrWorkflows } from '../../lib/dr-workflows.ts';
import type { DrTargetDeclaration } from '../../lib/dr-workflows.ts';
import { SigningKeys } from '../../lib/signing-keys.ts';
import { StateTable } from '../../lib/state-table.ts';
import { allowedActions, logicalId, synthMaestro, testStack } from './template-support.ts';

function synth(targets: DrTargetDeclaration[]) {
  const stack = testStack();
  const dr = new DrWorkflows(stack, 'Dr', {
    stateTable: new StateTable(stack, 'StateTable'),
    artifactVault: new ArtifactVault(stack, 'Vault'),
    signingKeys: new SigningKeys(stack, 'Keys'),
    targets,
  });
  return { stack, dr, template: Template.fromStack(stack) };
}

const ORDERS: DrTargetDeclaration = {
  name: 'orders',
  tables: ['orders'],
  prefixes: [{ bucket: 'orders-files', prefix: 'exports/' }],
  backupSchedule: 'rate(1 day)',
  restoreTestSchedule: 'cron(0 4 ? * SUN *)',
};

describe('DrWorkflows', () => {
  // GIVEN one target with a daily backup and a weekly restore test
  const { dr, template } = synth([ORDERS]);

  it('has the backup and restore state machines, defined inline by the ASL files', () => {
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(2);
    const definitions = machines.map((m) => JSON.stringify(m.Properties.DefinitionString));
    for (const file of ['dr-backup.asl.json', 'dr-restore.asl.json']) {
      const comment = JSON.parse(readFileSync(new URL(`../../statemachines/${file}`, import.meta.url), 'utf8')).Comment as string;
      expect(definitions.some((d) => d.includes(comment.slice(0, 40)))).toBe(true);
    }
  });

  it('schedules each target: backups and restore tests through the scheduled function', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 day)',
      Target: { Arn: { 'Fn::GetAtt': [logicalId(dr.scheduledFunction), 'Arn'] }, Input: JSON.stringify({ kind: 'backup', target: 'orders' }) },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 4 ? * SUN *)',
      Target: { Input: JSON.stringify({ kind: 'restore-test', target: 'orders' }) },
    });
  });

  it('gives each step only its rights: snapshot reads the live table, apply writes only new copies, discard deletes only copies', () => {
    const rights = (fn: keyof typeof dr.functions) => allowedActions(template, logicalId(dr.functions[fn].role!));
    const on = (pairs: { action: string; resource: string }[], action: string) =>
      pairs
        .filter((p) => p.action === action)
        .map((p) => p.resource)
        .join(' ');
    const snapshot = rights('Snapshot');
    expect(on(snapshot, 'dynamodb:Scan')).toMatch(/table\/orders"/);
    expect(on(snapshot, 'dynamodb:BatchWriteItem')).not.toMatch(/orders/);
    expect(on(snapshot, 's3:GetObject')).toContain('orders-files/exports/*');
    const apply = rights('Apply');
    expect(on(apply, 'dynamodb:CreateTable')).toMatch(/table\/orders-r\*"/);
    expect(on(apply, 'dynamodb:CreateTable')).not.toMatch(/table\/orders"/);
    expect(on(apply, 's3:PutObject')).toContain('orders-files/.maestro-dr/*');
    const discard = rights('DiscardCopy');
    expect(on(discard, 'dynamodb:DeleteTable')).toMatch(/table\/orders-r\*"/);
    expect(on(discard, 'dynamodb:DeleteTable')).not.toMatch(/table\/orders"/);
    expect(on(rights('SignManifest'), 'kms:Sign')).not.toBe('');
    expect(on(rights('Stage'), 'kms:Verify')).not.toBe('');
    expect(on(rights('Stage'), 'kms:Sign')).toBe('');
  });

  it('passes the targets and the manifest key to every step', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: { MAESTRO_DR_TARGETS: JSON.stringify([{ name: 'orders', tables: ['orders'], prefixes: [{ bucket: 'orders-files', prefix: 'exports/' }] }]) },
      },
    });
  });

  it('refuses bad targets at synth, quoting the value', () => {
    expect(() => synth([{ name: 'Bad Name', tables: ['t1x'] }])).toThrow(/"Bad Name"/);
    expect(() => synth([{ name: 'a', tables: ['t1x'], backupSchedule: 'daily' }])).toThrow(/"daily"/);
    expect(() => synth([{ name: 'a' }])).toThrow(/at least one table or prefix/);
    expect(() =>
      synth([
        { name: 'a', tables: ['x'] },
        { name: 'a', tables: ['y'] },
      ]),
    ).toThrow(/declared twice/);
  });
});

describe('MaestroStack with drTargets', () => {
  it('adds the DR workflows and lets the operations API start them, and not the run API', () => {
    // GIVEN the stack with one DR target over the demo table
    const { stack, template } = synthMaestro({ network: false, drTargets: [{ name: 'demo', tables: ['maestro-demo'] }] });
    // THEN the operations API's function knows the state machines and may start them
    const dr = stack.drWorkflows!;
    const api = template.findResources('AWS::Lambda::Function')[logicalId(stack.api.opsHandler)];
    expect(Object.keys(api.Properties.Environment.Variables)).toEqual(
      expect.arrayContaining(['MAESTRO_DR_BACKUP_STATE_MACHINE_ARN', 'MAESTRO_DR_RESTORE_STATE_MACHINE_ARN', 'MAESTRO_DR_TARGETS']),
    );
    const startsOf = (fn: typeof stack.api.handler) =>
      allowedActions(template, logicalId(fn.role!))
        .filter((r) => r.action === 'states:StartExecution')
        .map((r) => r.resource)
        .join(' ');
    expect(startsOf(stack.api.opsHandler)).toContain(logicalId(dr.backupStateMachine));
    expect(startsOf(stack.api.opsHandler)).toContain(logicalId(dr.restoreStateMachine));
    // The run API starts runs only.
    expect(startsOf(stack.api.handler)).not.toContain(logicalId(dr.backupStateMachine));
    expect(startsOf(stack.api.handler)).not.toContain(logicalId(dr.restoreStateMachine));
  });
});
