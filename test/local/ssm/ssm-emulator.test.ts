import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  InvalidNextToken,
  LabelParameterVersionCommand,
  ParameterAlreadyExists,
  ParameterMaxVersionLimitExceeded,
  ParameterNotFound,
  ParameterPatternMismatchException,
  ParameterVersionNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { startSsmEmulator } from '../../../local/ssm/ssm-emulator.ts';
import type { RunningSsmEmulator } from '../../../local/ssm/ssm-emulator.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clientFor = (emulator: RunningSsmEmulator) => new SSMClient({ endpoint: emulator.url, region: emulator.region, credentials, maxAttempts: 1 });

describe('SSM stand-in', () => {
  let dataDir: string;
  let emulator: RunningSsmEmulator;
  let client: SSMClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'maestro-ssm-'));
    emulator = await startSsmEmulator({ dataDir });
    client = clientFor(emulator);
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a parameter at version 1 and reads it back with its ARN', async () => {
    const put = await client.send(new PutParameterCommand({ Name: '/app/feature-flag', Value: 'off', Type: 'String' }));
    expect(put).toMatchObject({ Version: 1, Tier: 'Standard' });
    const { Parameter } = await client.send(new GetParameterCommand({ Name: '/app/feature-flag' }));
    expect(Parameter).toMatchObject({
      Name: '/app/feature-flag',
      Type: 'String',
      Value: 'off',
      Version: 1,
      ARN: 'arn:aws:ssm:us-east-1:000000000000:parameter/app/feature-flag',
      DataType: 'text',
    });
    expect(Parameter!.LastModifiedDate).toBeInstanceOf(Date);
  });

  it('refuses a second put without Overwrite with ParameterAlreadyExists, and keeps the value', async () => {
    await client.send(new PutParameterCommand({ Name: 'exists-once', Value: 'a', Type: 'String' }));
    const error = await client.send(new PutParameterCommand({ Name: 'exists-once', Value: 'b', Type: 'String' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParameterAlreadyExists);
    expect((error as ParameterAlreadyExists).$metadata.httpStatusCode).toBe(400);
    const { Parameters } = await client.send(new GetParameterHistoryCommand({ Name: 'exists-once' }));
    expect(Parameters!.map((p) => p.Value)).toEqual(['a']);
  });

  it('adds a version per overwrite and reads any version back with name:version', async () => {
    await client.send(new PutParameterCommand({ Name: '/svc/timeout', Value: '10', Type: 'String', Description: 'seconds' }));
    const second = await client.send(new PutParameterCommand({ Name: '/svc/timeout', Value: '20', Overwrite: true }));
    const third = await client.send(new PutParameterCommand({ Name: '/svc/timeout', Value: '30', Overwrite: true }));
    expect([second.Version, third.Version]).toEqual([2, 3]);

    const latest = await client.send(new GetParameterCommand({ Name: '/svc/timeout' }));
    expect(latest.Parameter).toMatchObject({ Value: '30', Version: 3, Type: 'String' });
    const first = await client.send(new GetParameterCommand({ Name: '/svc/timeout:1' }));
    expect(first.Parameter).toMatchObject({ Value: '10', Version: 1, Selector: ':1' });

    const missing = await client.send(new GetParameterCommand({ Name: '/svc/timeout:9' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ParameterVersionNotFound);
  });

  it('pages the history oldest first and refuses a forged NextToken', async () => {
    for (let value = 1; value <= 5; value += 1) {
      await client.send(new PutParameterCommand({ Name: 'paged', Value: String(value), Type: 'String', Overwrite: true }));
    }
    const first = await client.send(new GetParameterHistoryCommand({ Name: 'paged', MaxResults: 2 }));
    expect(first.Parameters!.map((p) => p.Version)).toEqual([1, 2]);
    expect(first.NextToken).toBeDefined();
    const seen = [...first.Parameters!];
    let token = first.NextToken;
    while (token) {
      const page = await client.send(new GetParameterHistoryCommand({ Name: 'paged', MaxResults: 2, NextToken: token }));
      seen.push(...page.Parameters!);
      token = page.NextToken;
    }
    expect(seen.map((p) => p.Value)).toEqual(['1', '2', '3', '4', '5']);
    expect(seen[0]).toMatchObject({ Name: 'paged', Type: 'String', Tier: 'Standard', Labels: [], LastModifiedUser: 'arn:aws:iam::000000000000:root' });

    const forged = await client.send(new GetParameterHistoryCommand({ Name: 'paged', NextToken: 'garbage' })).catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(InvalidNextToken);
  });

  it('hides a SecureString value unless WithDecryption, and records the key', async () => {
    await client.send(new PutParameterCommand({ Name: '/db/password', Value: 's3cret', Type: 'SecureString' }));
    const sealed = await client.send(new GetParameterCommand({ Name: '/db/password' }));
    expect(sealed.Parameter!.Type).toBe('SecureString');
    expect(sealed.Parameter!.Value).not.toContain('s3cret');
    expect(Buffer.from(sealed.Parameter!.Value!, 'base64').toString('latin1')).not.toContain('s3cret');
    const open = await client.send(new GetParameterCommand({ Name: '/db/password', WithDecryption: true }));
    expect(open.Parameter!.Value).toBe('s3cret');
    const history = await client.send(new GetParameterHistoryCommand({ Name: '/db/password' }));
    expect(history.Parameters![0].KeyId).toBe('alias/aws/ssm');
  });

  it('keeps a StringList as its comma-separated value', async () => {
    await client.send(new PutParameterCommand({ Name: 'regions', Value: 'eu-west-1,us-east-1', Type: 'StringList' }));
    const { Parameter } = await client.send(new GetParameterCommand({ Name: 'regions' }));
    expect(Parameter).toMatchObject({ Type: 'StringList', Value: 'eu-west-1,us-east-1' });
  });

  it('moves a label between versions and resolves name:label', async () => {
    await client.send(new PutParameterCommand({ Name: 'labelled', Value: 'v1', Type: 'String' }));
    await client.send(new PutParameterCommand({ Name: 'labelled', Value: 'v2', Type: 'String', Overwrite: true }));
    const labelled = await client.send(new LabelParameterVersionCommand({ Name: 'labelled', ParameterVersion: 1, Labels: ['stable', '1bad', 'awsreserved'] }));
    expect(labelled).toMatchObject({ ParameterVersion: 1, InvalidLabels: ['1bad', 'awsreserved'] });
    expect((await client.send(new GetParameterCommand({ Name: 'labelled:stable' }))).Parameter!.Value).toBe('v1');

    await client.send(new LabelParameterVersionCommand({ Name: 'labelled', Labels: ['stable'] }));
    expect((await client.send(new GetParameterCommand({ Name: 'labelled:stable' }))).Parameter!.Value).toBe('v2');
    const { Parameters } = await client.send(new GetParameterHistoryCommand({ Name: 'labelled' }));
    expect(Parameters!.map((p) => p.Labels)).toEqual([[], ['stable']]);
  });

  it('keeps the newest 100 versions, and refuses to drop a labelled oldest one', async () => {
    await client.send(new PutParameterCommand({ Name: 'many', Value: 'v1', Type: 'String' }));
    for (let version = 2; version <= 100; version += 1) {
      await client.send(new PutParameterCommand({ Name: 'many', Value: `v${version}`, Overwrite: true }));
    }
    await client.send(new LabelParameterVersionCommand({ Name: 'many', ParameterVersion: 1, Labels: ['first'] }));
    const refused = await client.send(new PutParameterCommand({ Name: 'many', Value: 'v101', Overwrite: true })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ParameterMaxVersionLimitExceeded);
    expect((await client.send(new GetParameterCommand({ Name: 'many' }))).Parameter!.Version).toBe(100);

    await client.send(new LabelParameterVersionCommand({ Name: 'many', ParameterVersion: 50, Labels: ['first'] }));
    expect((await client.send(new PutParameterCommand({ Name: 'many', Value: 'v101', Overwrite: true }))).Version).toBe(101);
    const gone = await client.send(new GetParameterCommand({ Name: 'many:1' })).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ParameterVersionNotFound);
    expect((await client.send(new GetParameterCommand({ Name: 'many:2' }))).Parameter!.Value).toBe('v2');
  });

  it('deletes a parameter with its history; a second delete is ParameterNotFound', async () => {
    await client.send(new PutParameterCommand({ Name: 'short-lived', Value: 'x', Type: 'String' }));
    await client.send(new PutParameterCommand({ Name: 'short-lived', Value: 'y', Type: 'String', Overwrite: true }));
    await client.send(new DeleteParameterCommand({ Name: 'short-lived' }));
    const read = await client.send(new GetParameterCommand({ Name: 'short-lived' })).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(ParameterNotFound);
    const again = await client.send(new DeleteParameterCommand({ Name: 'short-lived' })).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ParameterNotFound);
    // Re-created, it starts over at version 1, as in SSM.
    expect((await client.send(new PutParameterCommand({ Name: 'short-lived', Value: 'z', Type: 'String' }))).Version).toBe(1);
  });

  it('names the bad field in a ValidationException (type missing, bad name, tags with overwrite)', async () => {
    const noType = await client.send(new PutParameterCommand({ Name: 'untyped', Value: 'x' })).catch((e: unknown) => e);
    expect(noType).toMatchObject({
      name: 'ValidationException',
      message: 'A parameter type is required when you create a parameter.',
      $metadata: { httpStatusCode: 400 },
    });

    const badName = await client.send(new PutParameterCommand({ Name: 'no/leading/slash', Value: 'x', Type: 'String' })).catch((e: unknown) => e);
    expect(badName).toMatchObject({ name: 'ValidationException' });
    const reserved = await client.send(new PutParameterCommand({ Name: '/aws/mine', Value: 'x', Type: 'String' })).catch((e: unknown) => e);
    expect(reserved).toMatchObject({ name: 'ValidationException' });

    const badType = await client.send(new PutParameterCommand({ Name: 'typed', Value: 'x', Type: 'Number' as never })).catch((e: unknown) => e);
    expect((badType as Error).message).toContain("Value at 'type'");

    const tagsAndOverwrite = await client
      .send(new PutParameterCommand({ Name: 'tagged', Value: 'x', Type: 'String', Overwrite: true, Tags: [{ Key: 'k', Value: 'v' }] }))
      .catch((e: unknown) => e);
    expect((tagsAndOverwrite as Error).message).toContain("tags and overwrite can't be used together");

    const pattern = await client
      .send(new PutParameterCommand({ Name: 'digits', Value: 'abc', Type: 'String', AllowedPattern: '\\d+' }))
      .catch((e: unknown) => e);
    expect(pattern).toBeInstanceOf(ParameterPatternMismatchException);
    await expect(client.send(new GetParameterCommand({ Name: 'digits' }))).rejects.toBeInstanceOf(ParameterNotFound);
  });

  it('answers an unknown operation with a 400 naming the supported ones', async () => {
    const response = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.constructor' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { __type: string; message: string };
    expect(body.__type).toBe('UnknownOperationException');
    expect(body.message).toContain('PutParameter');
  });

  it('keeps parameters, versions and labels across a restart, in 0600 files', async () => {
    // Far longer than a file name may be: stored under its hash.
    const longName = `/${'deep-'.repeat(14)}/${'x'.repeat(1800)}`;
    await client.send(new PutParameterCommand({ Name: longName, Value: 'long', Type: 'String' }));
    await client.send(new PutParameterCommand({ Name: '/durable/p', Value: 'one', Type: 'String' }));
    await client.send(new PutParameterCommand({ Name: '/durable/p', Value: 'two', Type: 'String', Overwrite: true }));
    await client.send(new LabelParameterVersionCommand({ Name: '/durable/p', ParameterVersion: 1, Labels: ['previous'] }));
    client.destroy();
    await emulator.stop();

    const files = await readdir(join(dataDir, 'parameters'));
    expect(files.length).toBeGreaterThan(0);
    expect((await stat(join(dataDir, 'parameters', files[0]))).mode & 0o777).toBe(0o600);

    emulator = await startSsmEmulator({ dataDir });
    client = clientFor(emulator);
    expect((await client.send(new GetParameterCommand({ Name: '/durable/p' }))).Parameter).toMatchObject({ Value: 'two', Version: 2 });
    expect((await client.send(new GetParameterCommand({ Name: '/durable/p:previous' }))).Parameter).toMatchObject({ Value: 'one', Version: 1 });
    expect((await client.send(new PutParameterCommand({ Name: '/durable/p', Value: 'three', Overwrite: true }))).Version).toBe(3);
    expect((await client.send(new GetParameterCommand({ Name: longName }))).Parameter).toMatchObject({ Name: longName, Value: 'long' });
  });
});
