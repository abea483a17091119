import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { LambdaClient, ListAliasesCommand, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startTargetEmulators } from '../../../local/targets/target-emulators.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

async function listening(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

async function freePort(): Promise<number> {
  const server = await listening();
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('target stand-ins started together', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'maestro-targets-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('gives one URL per service, each answering its own protocol, with a data directory each', async () => {
    const targets = await startTargetEmulators({ dataDir });
    const config = { region: targets.region, credentials, maxAttempts: 1 };
    const lambda = new LambdaClient({ ...config, endpoint: targets.endpoints.lambda });
    const ssm = new SSMClient({ ...config, endpoint: targets.endpoints.ssm });
    const cloudwatch = new CloudWatchClient({ ...config, endpoint: targets.endpoints.cloudwatch });
    try {
      expect(new Set(Object.values(targets.endpoints)).size).toBe(3);
      await expect(lambda.send(new ListAliasesCommand({ FunctionName: 'none' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
      expect((await ssm.send(new PutParameterCommand({ Name: '/together', Value: 'yes', Type: 'String' }))).Version).toBe(1);
      expect((await cloudwatch.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);
    } finally {
      for (const client of [lambda, ssm, cloudwatch]) client.destroy();
      await targets.stop();
    }
    expect((await readdir(dataDir)).sort()).toEqual(['cloudwatch', 'lambda', 'ssm']);
  });

  it('stops the ones that started when another cannot listen', async () => {
    const blocker = await listening();
    const [lambda, cloudwatch] = await Promise.all([freePort(), freePort()]);
    try {
      await expect(startTargetEmulators({ dataDir, ports: { lambda, ssm: portOf(blocker), cloudwatch } })).rejects.toThrow(/EADDRINUSE/);
      // The Lambda and CloudWatch ports are free again: nothing was left listening.
      const again = await startTargetEmulators({ dataDir, ports: { lambda, cloudwatch } });
      expect(again.endpoints.lambda).toBe(`http://127.0.0.1:${lambda}`);
      await again.stop();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
