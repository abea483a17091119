import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { Observability } from '../../lib/observability.ts';
import { allowedActions, allows, arnOf, logicalId, synthMaestro, testStack } from './template-support.ts';

describe('Observability', () => {
  // GIVEN the whole stack
  const { stack, template } = synthMaestro();

  it('adds a dashboard over the Maestro EMF metrics and the run state machine', () => {
    // THEN
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
    for (const name of [
      'RunsStarted',
      'RunsSucceeded',
      'RunsFailed',
      'RunsRolledBack',
      'PlanLatency',
      'ApplyLatency',
      'PolicyDenials',
      'ApprovalsWaited',
      'ValidationErrors',
      'InternalErrors',
    ]) {
      expect(body, name).toContain(`\\"${name}\\"`);
    }
    expect(body).toContain('\\"Maestro\\"');
    expect(body).toContain(logicalId(stack.runWorkflow.stateMachine));
  });

  it('alarms on apply success rate, apply and plan latency p95, and internal errors', () => {
    // THEN
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 0.9,
      Metrics: [
        { Expression: 'IF(succeeded + failed + rolledBack > 0, succeeded / (succeeded + failed + rolledBack), 1)', Id: 'expr_1' },
        {
          Id: 'succeeded',
          MetricStat: {
            Metric: { MetricName: 'RunsSucceeded', Namespace: 'Maestro', Dimensions: [{ Name: 'service', Value: 'maestro' }] },
            Period: 3600,
            Stat: 'Sum',
          },
          ReturnData: false,
        },
        { Id: 'failed', MetricStat: { Metric: { MetricName: 'RunsFailed', Namespace: 'Maestro' } }, ReturnData: false },
        { Id: 'rolledBack', MetricStat: { Metric: { MetricName: 'RunsRolledBack', Namespace: 'Maestro' } }, ReturnData: false },
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApplyLatency',
      Namespace: 'Maestro',
      ExtendedStatistic: 'p95',
      Threshold: 120_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'PlanLatency', ExtendedStatistic: 'p95', Threshold: 60_000 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'InternalErrors',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('lets Finalize sign audit heads into the artifact vault, and the API read and verify them', () => {
    // THEN
    const finalizeRole = logicalId(stack.runWorkflow.functions.Finalize.role!);
    const apiRole = logicalId(stack.api.handler.role!);
    const manifestKey = arnOf(stack.signingKeys.manifestSigningKey);
    expect(allows(template, finalizeRole, 'kms:Sign', manifestKey)).toBe(true);
    expect(allows(template, apiRole, 'kms:Verify', manifestKey)).toBe(true);
    expect(allows(template, apiRole, 'kms:Sign', manifestKey)).toBe(false);
    const bucketObjects = { 'Fn::Join': ['', [arnOf(stack.artifactVault.bucket), '/*']] };
    expect(
      allowedActions(template, finalizeRole).some((pair) => pair.action.startsWith('s3:PutObject') && pair.resource === JSON.stringify(bucketObjects)),
    ).toBe(true);
    expect(allowedActions(template, apiRole).some((pair) => pair.action.startsWith('s3:PutObject'))).toBe(false);
    // …and only they: the other steps cannot sign.
    expect(allows(template, logicalId(stack.runWorkflow.functions.ApplyTask.role!), 'kms:Sign', manifestKey)).toBe(false);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: { MAESTRO_AUDIT_SIGNING_KEY: 'alias/maestro-manifest-signing', MAESTRO_ARTIFACT_BUCKET: { Ref: logicalId(stack.artifactVault.bucket) } },
      },
    });
  });

  it('sends alarms to a topic when given one, and refuses a success-rate threshold outside (0, 1]', () => {
    // GIVEN
    const small = testStack();
    const machine = new sfn.StateMachine(small, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(small, 'Pass')) });
    const topic = new sns.Topic(small, 'Topic');
    // WHEN
    new Observability(small, 'Observability', { runStateMachine: machine, alarmTopic: topic });
    // THEN
    const alarms = Object.values(Template.fromStack(small).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((alarm) => alarm.Properties.AlarmActions)).toEqual(alarms.map(() => [{ Ref: logicalId(topic) }]));
    expect(() => new Observability(small, 'Bad', { runStateMachine: machine, applySuccessRateThreshold: 1.5 })).toThrow(
      /applySuccessRateThreshold must be in \(0, 1\], got 1\.5/,
    );
  });
});
