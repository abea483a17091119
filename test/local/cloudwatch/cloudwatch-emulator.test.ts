import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  InvalidFormatFault,
  InvalidNextToken,
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  MissingRequiredParameterException,
  PutMetricAlarmCommand,
  ResourceNotFound,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import type { CloudWatchClientConfig, PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { AwsQueryProtocol, AwsSmithyRpcV2CborProtocol } from '@aws-sdk/core/protocols';
import { startCloudWatchEmulator } from '../../../local/cloudwatch/cloudwatch-emulator.ts';
import type { RunningCloudWatchEmulator } from '../../../local/cloudwatch/cloudwatch-emulator.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clientFor = (emulator: RunningCloudWatchEmulator, protocol?: CloudWatchClientConfig['protocol']) =>
  new CloudWatchClient({ endpoint: emulator.url, region: emulator.region, credentials, maxAttempts: 1, ...(protocol ? { protocol } : {}) });

function errorsAlarm(name: string, extra: Partial<PutMetricAlarmCommandInput> = {}): PutMetricAlarmCommandInput {
  return {
    AlarmName: name,
    MetricName: 'Errors',
    Namespace: 'AWS/Lambda',
    Statistic: 'Sum',
    Dimensions: [
      { Name: 'FunctionName', Value: 'checkout' },
      { Name: 'Resource', Value: 'checkout:live' },
    ],
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    ...extra,
  };
}

describe('CloudWatch stand-in', () => {
  let dataDir: string;
  let emulator: RunningCloudWatchEmulator;
  let client: CloudWatchClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'maestro-cloudwatch-'));
    emulator = await startCloudWatchEmulator({ dataDir });
    client = clientFor(emulator);
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates an alarm in INSUFFICIENT_DATA and describes it as CloudWatch does', async () => {
    await client.send(new PutMetricAlarmCommand(errorsAlarm('checkout-errors', { AlarmActions: ['arn:aws:sns:us-east-1:000000000000:pager'] })));
    const { MetricAlarms, CompositeAlarms } = await client.send(new DescribeAlarmsCommand({ AlarmNames: ['checkout-errors'] }));
    expect(CompositeAlarms).toEqual([]);
    expect(MetricAlarms).toHaveLength(1);
    expect(MetricAlarms![0]).toMatchObject({
      AlarmName: 'checkout-errors',
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:checkout-errors',
      StateValue: 'INSUFFICIENT_DATA',
      StateReason: 'Unchecked: Initial alarm creation',
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      Dimensions: [
        { Name: 'FunctionName', Value: 'checkout' },
        { Name: 'Resource', Value: 'checkout:live' },
      ],
      Period: 60,
      Threshold: 1,
      ActionsEnabled: true,
      AlarmActions: ['arn:aws:sns:us-east-1:000000000000:pager'],
    });
    expect(MetricAlarms![0].StateUpdatedTimestamp).toBeInstanceOf(Date);
  });

  it('fires an alarm with SetAlarmState and filters DescribeAlarms by StateValue', async () => {
    await client.send(new PutMetricAlarmCommand(errorsAlarm('fire-me')));
    await client.send(new PutMetricAlarmCommand(errorsAlarm('stay-quiet')));
    await client.send(
      new SetAlarmStateCommand({ AlarmName: 'fire-me', StateValue: 'ALARM', StateReason: 'Testing the rollback', StateReasonData: '{"by":"test"}' }),
    );

    const inAlarm = await client.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
    expect(inAlarm.MetricAlarms!.map((alarm) => alarm.AlarmName)).toEqual(['fire-me']);
    expect(inAlarm.MetricAlarms![0]).toMatchObject({ StateReason: 'Testing the rollback', StateReasonData: '{"by":"test"}' });

    // Re-putting the alarm replaces its configuration but keeps its state.
    await client.send(new PutMetricAlarmCommand(errorsAlarm('fire-me', { Threshold: 5 })));
    const updated = (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['fire-me'] }))).MetricAlarms![0];
    expect(updated).toMatchObject({ Threshold: 5, StateValue: 'ALARM' });

    await client.send(new SetAlarmStateCommand({ AlarmName: 'fire-me', StateValue: 'OK', StateReason: 'recovered' }));
    expect((await client.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }))).MetricAlarms).toEqual([]);
  });

  it('selects by name prefix, pages with NextToken, and refuses names with a prefix', async () => {
    for (const suffix of ['a', 'b', 'c']) await client.send(new PutMetricAlarmCommand(errorsAlarm(`prefixed-${suffix}`)));
    const first = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'prefixed-', MaxRecords: 2 }));
    expect(first.MetricAlarms!.map((alarm) => alarm.AlarmName)).toEqual(['prefixed-a', 'prefixed-b']);
    const second = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'prefixed-', MaxRecords: 2, NextToken: first.NextToken }));
    expect(second.MetricAlarms!.map((alarm) => alarm.AlarmName)).toEqual(['prefixed-c']);
    expect(second.NextToken).toBeUndefined();

    await expect(client.send(new DescribeAlarmsCommand({ AlarmNames: ['x'], AlarmNamePrefix: 'x' }))).rejects.toBeInstanceOf(
      InvalidParameterCombinationException,
    );
    await expect(client.send(new DescribeAlarmsCommand({ NextToken: 'forged' }))).rejects.toBeInstanceOf(InvalidNextToken);
  });

  it('answers SetAlarmState on a missing alarm with ResourceNotFound (404) and bad reason data with InvalidFormat', async () => {
    const missing = await client.send(new SetAlarmStateCommand({ AlarmName: 'nobody', StateValue: 'ALARM', StateReason: 'x' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFound);
    expect(missing).toMatchObject({ Code: 'ResourceNotFound', $metadata: { httpStatusCode: 404 } });

    await client.send(new PutMetricAlarmCommand(errorsAlarm('reasoned')));
    const badJson = await client
      .send(new SetAlarmStateCommand({ AlarmName: 'reasoned', StateValue: 'ALARM', StateReason: 'x', StateReasonData: 'not json' }))
      .catch((e: unknown) => e);
    expect(badJson).toBeInstanceOf(InvalidFormatFault);
    expect(badJson).toMatchObject({ Code: 'InvalidFormat' });
    expect((await client.send(new DescribeAlarmsCommand({ AlarmNames: ['reasoned'] }))).MetricAlarms![0].StateValue).toBe('INSUFFICIENT_DATA');
  });

  it('refuses an alarm CloudWatch would refuse, naming what is wrong', async () => {
    const noMetric = await client
      .send(new PutMetricAlarmCommand({ AlarmName: 'bad', EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }))
      .catch((e: unknown) => e);
    expect(noMetric).toBeInstanceOf(MissingRequiredParameterException);
    const badPeriod = await client.send(new PutMetricAlarmCommand(errorsAlarm('bad', { Period: 45 }))).catch((e: unknown) => e);
    expect(badPeriod).toBeInstanceOf(InvalidParameterValueException);
    expect((badPeriod as Error).message).toContain('Period');
    const both = await client.send(new PutMetricAlarmCommand(errorsAlarm('bad', { ExtendedStatistic: 'p99' }))).catch((e: unknown) => e);
    expect(both).toBeInstanceOf(InvalidParameterCombinationException);
    const badOperator = await client.send(new PutMetricAlarmCommand(errorsAlarm('bad', { ComparisonOperator: 'Sideways' as never }))).catch((e: unknown) => e);
    expect(badOperator).toMatchObject({ name: 'ValidationException', Code: 'ValidationError', $metadata: { httpStatusCode: 400 } });
    expect((badOperator as Error).message).toContain("Value at 'comparisonOperator'");
    expect((await client.send(new DescribeAlarmsCommand({ AlarmNames: ['bad'] }))).MetricAlarms).toEqual([]);
  });

  it('deletes alarms, and deletes none when one of the names is missing', async () => {
    await client.send(new PutMetricAlarmCommand(errorsAlarm('doomed-1')));
    await client.send(new PutMetricAlarmCommand(errorsAlarm('doomed-2')));
    await expect(client.send(new DeleteAlarmsCommand({ AlarmNames: ['doomed-1', 'ghost'] }))).rejects.toBeInstanceOf(ResourceNotFound);
    expect((await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'doomed-' }))).MetricAlarms).toHaveLength(2);
    await client.send(new DeleteAlarmsCommand({ AlarmNames: ['doomed-1', 'doomed-2'] }));
    expect((await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'doomed-' }))).MetricAlarms).toEqual([]);
  });

  it('speaks the query protocol (XML) and Smithy RPC v2 CBOR to the SDK configured for them', async () => {
    for (const [protocol, name] of [
      [AwsQueryProtocol, 'via-query'],
      [AwsSmithyRpcV2CborProtocol, 'via-cbor'],
    ] as const) {
      const other = clientFor(emulator, protocol);
      try {
        await other.send(new PutMetricAlarmCommand(errorsAlarm(name)));
        await other.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: `fired over ${name}` }));
        const { MetricAlarms } = await other.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
        expect(MetricAlarms![0]).toMatchObject({
          AlarmName: name,
          StateValue: 'ALARM',
          StateReason: `fired over ${name}`,
          Dimensions: [
            { Name: 'FunctionName', Value: 'checkout' },
            { Name: 'Resource', Value: 'checkout:live' },
          ],
          Period: 60,
          Threshold: 1,
          ActionsEnabled: true,
        });
        expect(MetricAlarms![0].StateUpdatedTimestamp).toBeInstanceOf(Date);
        const missing = await other.send(new SetAlarmStateCommand({ AlarmName: 'nobody', StateValue: 'OK', StateReason: 'x' })).catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(ResourceNotFound);
        expect((missing as ResourceNotFound).$metadata.httpStatusCode).toBe(404);
      } finally {
        other.destroy();
      }
    }
  });

  it('answers an unknown query action with InvalidAction in XML', async () => {
    const response = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=PutMetricData&Version=2010-08-01',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain('<Code>InvalidAction</Code>');
    expect(text).toContain('SetAlarmState');
  });

  it('refuses query member paths that would reach Object.prototype or mix a value with members', async () => {
    for (const body of [
      'Action=DescribeAlarms&Version=2010-08-01&__proto__.polluted=yes',
      'Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=a&AlarmNames.member.1.x=b',
      'Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.0=a',
    ]) {
      const response = await fetch(emulator.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('<Code>InvalidParameterValue</Code>');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps alarms and their state across a restart, in 0600 files', async () => {
    await client.send(new PutMetricAlarmCommand(errorsAlarm('durable')));
    await client.send(new SetAlarmStateCommand({ AlarmName: 'durable', StateValue: 'ALARM', StateReason: 'before restart' }));
    client.destroy();
    await emulator.stop();

    const files = await readdir(join(dataDir, 'alarms'));
    expect((await stat(join(dataDir, 'alarms', files[0]))).mode & 0o777).toBe(0o600);

    emulator = await startCloudWatchEmulator({ dataDir });
    client = clientFor(emulator);
    const { MetricAlarms } = await client.send(new DescribeAlarmsCommand({ AlarmNames: ['durable'] }));
    expect(MetricAlarms![0]).toMatchObject({ StateValue: 'ALARM', StateReason: 'before restart', Threshold: 1 });
  });
});
