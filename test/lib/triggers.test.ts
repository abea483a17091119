import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { MaestroStack } from '../../lib/maestro-stack.ts';
import { StateTable } from '../../lib/state-table.ts';
import { MaestroTriggers } from '../../lib/triggers.ts';
import { allowedActions, logicalId, testApp, testStack } from './template-support.ts';

const TRIGGERS = [
  { id: 'nightly', kind: 'schedule', schedule: 'cron(0 3 * * ? *)', template: { name: 'nightly-report' }, autonomyCeiling: 1 },
  {
    id: 'alarm',
    kind: 'event',
    template: { name: 'nightly-report' },
    pattern: { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { state: { value: ['ALARM'] } } },
  },
  { id: 'gh', kind: 'webhook', template: { name: 'nightly-report' } },
];

function synth(triggers: unknown[]) {
  const stack = testStack();
  const runStateMachine = new sfn.StateMachine(stack, 'Run', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')) });
  const construct = new MaestroTriggers(stack, 'Triggers', { stateTable: new StateTable(stack, 'StateTable'), runStateMachine, triggers });
  return { construct, template: Template.fromStack(stack), runStateMachine };
}

describe('MaestroTriggers', () => {
  // GIVEN a schedule, an event and a webhook trigger
  const { construct, template, runStateMachine } = synth(TRIGGERS);

  it('makes an EventBridge Scheduler schedule per schedule trigger (its scheduled time in the input) and the one-minute tick', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((resource) => resource.Properties);
    const nightly = schedules.find((schedule) => schedule.ScheduleExpression === 'cron(0 3 * * ? *)')!;
    expect(JSON.parse(nightly.Target.Input)).toEqual({ kind: 'schedule', triggerId: 'nightly', scheduledTime: '<aws.scheduler.scheduled-time>' });
    expect(nightly.Target.Arn).toEqual({ 'Fn::GetAtt': [logicalId(construct.function), 'Arn'] });
    const tick = schedules.find((schedule) => schedule.ScheduleExpression === 'rate(1 minute)')!;
    expect(JSON.parse(tick.Target.Input)).toEqual({ kind: 'tick' });
  });

  it('makes a rule per event trigger with the same pattern, whose target gets the whole event and the trigger id', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')).map((resource) => resource.Properties);
    expect(rule.EventPattern).toEqual(TRIGGERS[1].pattern);
    expect(rule.Targets[0].InputTransformer.InputPathsMap).toEqual({ f1: '$' });
    expect(rule.Targets[0].InputTransformer.InputTemplate).toBe('{"kind":"event","triggerId":"alarm","event":<f1>}');
    // The function may be invoked by that rule only.
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logicalId(construct.rules[0]), 'Arn'] },
    });
  });

  it("gives the schedules' role lambda:InvokeFunction on the trigger function only, assumed by the scheduler of this account", () => {
    const role = logicalId(construct.schedulerRole);
    const allowed = allowedActions(template, role);
    expect(new Set(allowed.map((pair) => pair.action))).toEqual(new Set(['lambda:InvokeFunction']));
    const fn = JSON.stringify({ 'Fn::GetAtt': [logicalId(construct.function), 'Arn'] });
    for (const pair of allowed) expect(pair.resource === fn || pair.resource.includes(`${logicalId(construct.function)}`)).toBe(true);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } }],
      },
    });
  });

  it('gives the trigger function the state table and StartExecution on the run state machine, and nothing that applies or signs', () => {
    const role = logicalId(construct.function.role!);
    const actions = new Set(allowedActions(template, role).map((pair) => pair.action));
    expect(actions.has('states:StartExecution')).toBe(true);
    expect([...actions].some((action) => action.startsWith('s3:') || action.startsWith('kms:Sign') || action.startsWith('lambda:'))).toBe(false);
    expect(
      allowedActions(template, role)
        .filter((pair) => pair.action === 'states:StartExecution')
        .map((pair) => pair.resource),
    ).toEqual([JSON.stringify({ Ref: logicalId(runStateMachine) })]);
  });

  it('refuses a bad trigger at synth, quoting it', () => {
    expect(() => synth([{ id: 'bad', kind: 'schedule', schedule: 'every day', template: { name: 'x' } }])).toThrow(/every day/);
  });
});

describe('MaestroStack with triggers under cdk-nag', () => {
  it('has zero unacknowledged findings', () => {
    // GIVEN the whole stack with the three triggers, synthesized with the AwsSolutions checks
    const app = testApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new MaestroStack(app, 'Maestro', { env: { account: '123456789012', region: 'eu-west-1' }, triggers: TRIGGERS });
    let reportFile: string;
    try {
      reportFile = join(app.synth().directory, 'validation-report.json');
    } catch (error) {
      const path = (error as Error).message.match(/found in: (\S+)/)?.[1];
      if (!path) throw error;
      reportFile = path;
    }
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
    };
    const findings = report.pluginReports.flatMap((plugin) =>
      plugin.violations.flatMap((violation) => violation.violatingConstructs.map((construct) => `${violation.ruleName} @ ${construct.constructPath}`)),
    );
    // THEN nothing is left unacknowledged
    expect(findings).toEqual([]);
  });
});
