import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchAlarmReader } from '../../functions/adapters/cloudwatch-alarm-reader.ts';
import { TransientError } from '../../functions/core/errors.ts';
import { startCloudWatchEmulator } from '../../local/cloudwatch/cloudwatch-emulator.ts';
import type { RunningCloudWatchEmulator } from '../../local/cloudwatch/cloudwatch-emulator.ts';

const alarm = (name: string) =>
  new PutMetricAlarmCommand({
    AlarmName: name,
    MetricName: 'Errors',
    Namespace: 'AWS/Lambda',
    Statistic: 'Sum',
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  });

describe('CloudWatchAlarmReader on the CloudWatch stand-in', () => {
  let dataDir: string;
  let emulator: RunningCloudWatchEmulator;
  let client: CloudWatchClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'maestro-alarm-reader-'));
    emulator = await startCloudWatchEmulator({ dataDir });
    client = new CloudWatchClient({
      endpoint: emulator.url,
      region: emulator.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reads the states of the named alarms in order, and lists the names with no alarm', async () => {
    await client.send(alarm('errors'));
    await client.send(alarm('latency'));
    await client.send(new SetAlarmStateCommand({ AlarmName: 'latency', StateValue: 'ALARM', StateReason: 'p99 above 2 s' }));
    const { alarms, missing } = await new CloudWatchAlarmReader(client).read(['latency', 'ghost', 'errors', 'latency']);
    expect(alarms.map(({ name, state, reason }) => ({ name, state, reason }))).toEqual([
      { name: 'latency', state: 'ALARM', reason: 'p99 above 2 s' },
      { name: 'errors', state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation' },
    ]);
    expect(alarms[0].updatedAt).toBeInstanceOf(Date);
    expect(missing).toEqual(['ghost']);
  });

  it('reads more than one DescribeAlarms call can name (100)', async () => {
    const names = Array.from({ length: 120 }, (_, index) => `bulk-${String(index).padStart(3, '0')}`);
    for (const name of names) await client.send(alarm(name));
    const { alarms, missing } = await new CloudWatchAlarmReader(client).read(names);
    expect(alarms).toHaveLength(120);
    expect(missing).toEqual([]);
  });

  it('turns an unreachable endpoint into TransientError', async () => {
    const down = new CloudWatchClient({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 1,
    });
    try {
      await expect(new CloudWatchAlarmReader(down).read(['x'])).rejects.toBeInstanceOf(TransientError);
    } finally {
      down.destroy();
    }
  });
});
