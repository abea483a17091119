import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateAliasCommand, CreateFunctionCommand, LambdaClient, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { LambdaAliasStore } from '../../functions/adapters/lambda-alias-store.ts';
import { ActionFailed, StalePlan, TransientError } from '../../functions/core/errors.ts';
import { startLambdaEmulator } from '../../local/lambda/lambda-emulator.ts';
import type { RunningLambdaEmulator } from '../../local/lambda/lambda-emulator.ts';

const zip = (comment: string) => {
  const record = Buffer.alloc(22);
  record.writeUInt32LE(0x06054b50, 0);
  record.writeUInt16LE(comment.length, 20);
  return Buffer.concat([record, Buffer.from(comment)]);
};

describe('LambdaAliasStore on the Lambda stand-in', () => {
  let dataDir: string;
  let emulator: RunningLambdaEmulator;
  let client: LambdaClient;
  let store: LambdaAliasStore;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'maestro-alias-store-'));
    emulator = await startLambdaEmulator({ dataDir });
    client = new LambdaClient({
      endpoint: emulator.url,
      region: emulator.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    store = new LambdaAliasStore(client);
    await client.send(
      new CreateFunctionCommand({
        FunctionName: 'checkout',
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: 'arn:aws:iam::000000000000:role/r',
        Code: { ZipFile: zip('1') },
        Publish: true,
      }),
    );
    await client.send(new UpdateFunctionCodeCommand({ FunctionName: 'checkout', ZipFile: zip('2') }));
    await client.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
    await client.send(new CreateAliasCommand({ FunctionName: 'checkout', Name: 'live', FunctionVersion: '1' }));
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reads an alias and the published versions; a missing alias is undefined', async () => {
    expect(await store.getAlias('checkout', 'live')).toMatchObject({ functionName: 'checkout', aliasName: 'live', primaryVersion: '1' });
    expect((await store.getAlias('checkout', 'live'))!.additional).toBeUndefined();
    expect(await store.listVersions('checkout')).toEqual(['1', '2']);
    expect(await store.getAlias('checkout', 'nope')).toBeUndefined();
    expect(await store.getAlias('nobody', 'live')).toBeUndefined();
    await expect(store.listVersions('nobody')).rejects.toBeInstanceOf(ActionFailed);
  });

  it('shifts in steps, each step conditioned on the revision read, then promotes', async () => {
    let alias = (await store.getAlias('checkout', 'live'))!;
    for (const weight of [0.1, 0.5]) {
      alias = await store.setRouting({
        functionName: 'checkout',
        aliasName: 'live',
        primaryVersion: '1',
        additional: { version: '2', weight },
        expectedRevisionId: alias.revisionId,
      });
      expect(alias).toMatchObject({ primaryVersion: '1', additional: { version: '2', weight } });
    }
    alias = await store.setRouting({ functionName: 'checkout', aliasName: 'live', primaryVersion: '2', expectedRevisionId: alias.revisionId });
    expect(alias.primaryVersion).toBe('2');
    expect(alias.additional).toBeUndefined();
    expect(await store.getAlias('checkout', 'live')).toEqual(alias);
  });

  it('turns a stale revision into StalePlan and leaves the alias where the other writer put it', async () => {
    const read = (await store.getAlias('checkout', 'live'))!;
    const moved = await store.setRouting({ functionName: 'checkout', aliasName: 'live', primaryVersion: '1', expectedRevisionId: read.revisionId });
    const stale = await store
      .setRouting({ functionName: 'checkout', aliasName: 'live', primaryVersion: '2', expectedRevisionId: read.revisionId })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(StalePlan);
    expect((stale as StalePlan).name).toBe('StalePlan');
    expect(await store.getAlias('checkout', 'live')).toEqual(moved);
  });

  it('turns refused routing and a missing version into ActionFailed, never an SDK exception', async () => {
    const read = (await store.getAlias('checkout', 'live'))!;
    const self = await store
      .setRouting({
        functionName: 'checkout',
        aliasName: 'live',
        primaryVersion: '1',
        additional: { version: '1', weight: 0.5 },
        expectedRevisionId: read.revisionId,
      })
      .catch((e: unknown) => e);
    expect(self).toBeInstanceOf(ActionFailed);
    const missing = await store
      .setRouting({ functionName: 'checkout', aliasName: 'live', primaryVersion: '9', expectedRevisionId: read.revisionId })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ActionFailed);
    expect(await store.getAlias('checkout', 'live')).toEqual(read);
  });

  it('turns an unreachable endpoint into TransientError', async () => {
    const down = new LambdaClient({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 1,
    });
    try {
      await expect(new LambdaAliasStore(down).getAlias('checkout', 'live')).rejects.toBeInstanceOf(TransientError);
    } finally {
      down.destroy();
    }
  });
});
