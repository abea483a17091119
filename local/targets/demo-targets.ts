// The demo resources of the deploy actions, made at stack start when absent (the stand-ins keep their
// state, so a restarted stack finds them as it left them): a function with versions 1 and 2 and an
// alias `live` on version 1, for lambda.shift-alias; an alarm, in OK, for the shift to watch.

import { DescribeAlarmsCommand, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateAliasCommand, CreateFunctionCommand, GetFunctionCommand, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import type { LambdaClient } from '@aws-sdk/client-lambda';

export const DEMO_FUNCTION = 'maestro-demo-fn';
export const DEMO_ALIAS = 'live';
export const DEMO_ALARM = 'maestro-demo-errors';

/** An empty zip (its end-of-directory record) whose comment makes each version's code distinct. */
export function demoZip(comment: string): Buffer {
  const record = Buffer.alloc(22);
  record.writeUInt32LE(0x06054b50, 0);
  record.writeUInt16LE(comment.length, 20);
  return Buffer.concat([record, Buffer.from(comment)]);
}

export async function ensureDemoTargets(clients: { lambda: LambdaClient; cloudwatch: CloudWatchClient }): Promise<void> {
  const { lambda, cloudwatch } = clients;
  const exists = await lambda.send(new GetFunctionCommand({ FunctionName: DEMO_FUNCTION })).then(
    () => true,
    (error: Error) => {
      if (error.name === 'ResourceNotFoundException') return false;
      throw error;
    },
  );
  if (!exists) {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: DEMO_FUNCTION,
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: 'arn:aws:iam::000000000000:role/maestro-demo-fn',
        Code: { ZipFile: demoZip('maestro-demo-fn v1') },
        Publish: true,
      }),
    );
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: DEMO_FUNCTION, ZipFile: demoZip('maestro-demo-fn v2') }));
    await lambda.send(new PublishVersionCommand({ FunctionName: DEMO_FUNCTION }));
    await lambda.send(new CreateAliasCommand({ FunctionName: DEMO_FUNCTION, Name: DEMO_ALIAS, FunctionVersion: '1' }));
  }
  const { MetricAlarms } = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [DEMO_ALARM] }));
  if (!MetricAlarms?.length) {
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: DEMO_ALARM,
        AlarmDescription: 'Errors of maestro-demo-fn (the alarm lambda.shift-alias watches in the demo)',
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: DEMO_FUNCTION }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: DEMO_ALARM, StateValue: 'OK', StateReason: 'demo start: no errors' }));
  }
}
