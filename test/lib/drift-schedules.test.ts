import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MaestroStack } from '../../lib/maestro-stack.ts';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { ArtifactVault } from '../../lib/artifact-vault.ts';
import { DriftSchedules } from '../../lib/drift-schedules.ts';
import type { DriftScheduleDeclaration } from '../../lib/drift-schedules.ts';
import { StateTable } from '../../lib/state-table.ts';
import { allowedActions, arnOf, logicalId, synthMaestro, testApp, testStack } from './template-support.ts';

function synth(schedules: DriftScheduleDeclaration[]) {
  const stack = testStack();
  const planExecutor = new lambda.Function(stack, 'ExecuteRead', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  const drift = new DriftSchedules(stack, 'Drift', {
    stateTable: new StateTable(stack, 'StateTable'),
    artifactVault: new ArtifactVault(stack, 'Vault'),
    planExecutor,
    schedules,
  });
  return { stack, drift, planExecutor, template: Template.fromStack(stack) };
}

describe('DriftSchedules', () => {
  // GIVEN a sweep of prod every 15 minutes and of dev every hour
  const { drift, planExecutor, template } = synth([
    { environment: 'prod', schedule: 'rate(15 minutes)' },
    { environment: 'dev', schedule: 'cron(0 * * * ? *)' },
  ]);

  it('schedules one sweep per environment, invoking the sweep function with {environment}', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      Target: { Arn: arnOf(drift.sweepFunction), Input: JSON.stringify({ environment: 'prod' }), RetryPolicy: { MaximumRetryAttempts: 2 } },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 * * * ? *)',
      Target: { Input: JSON.stringify({ environment: 'dev' }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: {
          MAESTRO_TASK_EXECUTORS: {
            'Fn::Join': [
              '',
              [
                '{"read":"',
                { Ref: logicalId(planExecutor) },
                '","write":"',
                { Ref: logicalId(planExecutor) },
                '","internet":"',
                { Ref: logicalId(planExecutor) },
                '"}',
              ],
            ],
          },
        },
      },
    });
  });

  it("gives the schedules' role invoke on the sweep function only, assumable by EventBridge Scheduler of this account", () => {
    const [roleId] = Object.entries(template.findResources('AWS::IAM::Role')).find(([, role]) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    )!;
    expect(JSON.stringify(template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
    const rights = allowedActions(template, roleId);
    expect(new Set(rights.map((pair) => pair.action))).toEqual(new Set(['lambda:InvokeFunction']));
    for (const { resource } of rights) expect(resource).toContain(logicalId(drift.sweepFunction));
  });

  it('lets the sweep function invoke the read-only executor and nothing else; it holds no grant on any managed target', () => {
    const rights = allowedActions(template, logicalId(drift.sweepFunction.role!));
    const invokes = rights.filter((pair) => pair.action === 'lambda:InvokeFunction');
    expect(invokes.map((pair) => pair.resource)).toEqual([JSON.stringify(arnOf(planExecutor))]);
    // Besides the invoke: the state table (its grant), X-Ray, and nothing on S3, SSM, Lambda aliases or another function.
    for (const { action } of rights) expect(action).toMatch(/^(dynamodb:|xray:|lambda:InvokeFunction$|kms:)/);
    expect(rights.some((pair) => pair.action.startsWith('dynamodb:PutItem') || pair.action === 'dynamodb:*' || pair.action.startsWith('dynamodb:'))).toBe(true);
  });

  it('refuses a bad declaration at synth, quoting it', () => {
    expect(() => synth([{ environment: 'prod', schedule: 'every 15 minutes' }])).toThrow(
      /schedule of prod must be rate\(...\), cron\(...\) or at\(...\), got "every 15 minutes"/,
    );
    expect(() => synth([{ environment: 'Prod', schedule: 'rate(1 hour)' }])).toThrow(/environment must be a lowercase name, got "Prod"/);
    expect(() =>
      synth([
        { environment: 'prod', schedule: 'rate(1 hour)' },
        { environment: 'prod', schedule: 'rate(2 hours)' },
      ]),
    ).toThrow(/prod is scheduled twice/);
  });
});

/** The drift sweeps' schedules (the triggers' own one-minute tick is a schedule too): those that pass an environment. */
const driftSchedulesOf = (template: Template) =>
  Object.values(template.findResources('AWS::Scheduler::Schedule')).filter((schedule) => /"environment"/.test(String(schedule.Properties.Target.Input)));

describe('MaestroStack with driftSchedules', () => {
  it('adds the sweep and lets the operations API sweep on demand through the read-only executor; the run API invokes nothing', () => {
    const { stack, template } = synthMaestro({ driftSchedules: [{ environment: 'prod', schedule: 'rate(15 minutes)' }] });
    expect(driftSchedulesOf(template)).toHaveLength(1);
    const invokes = (fn: typeof stack.api.handler) => allowedActions(template, logicalId(fn.role!)).filter((pair) => pair.action === 'lambda:InvokeFunction');
    expect(invokes(stack.api.opsHandler).map((pair) => pair.resource)).toEqual([JSON.stringify(arnOf(stack.runWorkflow.executors.ExecuteRead))]);
    expect(invokes(stack.api.handler)).toEqual([]);
  });

  it('has no drift schedule without the prop', () => {
    const { template } = synthMaestro();
    expect(driftSchedulesOf(template)).toHaveLength(0);
  });
});

describe('cdk-nag AwsSolutions on the MaestroStack with drift schedules', () => {
  it('has zero unacknowledged errors or warnings', () => {
    // GIVEN the stack with a drift schedule, synthesized with the AwsSolutions checks (cdk-nag 3: a validation plugin)
    const app = testApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new MaestroStack(app, 'Maestro', {
      env: { account: '123456789012', region: 'eu-west-1' },
      driftSchedules: [{ environment: 'prod', schedule: 'rate(15 minutes)' }],
    });
    // WHEN it is synthesized / THEN the report lists no violation
    let reportFile: string;
    try {
      reportFile = join(app.synth().directory, 'validation-report.json');
    } catch (error) {
      const path = (error as Error).message.match(/found in: (\S+)/)?.[1];
      if (!path) throw error;
      reportFile = path;
    }
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      pluginReports: Array<{ violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }>;
    };
    const findings = report.pluginReports.flatMap((plugin) =>
      plugin.violations.flatMap((violation) => violation.violatingConstructs.map((construct) => `${violation.ruleName} @ ${construct.constructPath}`)),
    );
    expect(findings).toEqual([]);
  });
});
