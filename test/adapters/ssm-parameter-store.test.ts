import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SsmParameterStore } from '../../functions/adapters/ssm-parameter-store.ts';
import { ActionFailed, StalePlan } from '../../functions/core/errors.ts';
import { startSsmEmulator } from '../../local/ssm/ssm-emulator.ts';
import type { RunningSsmEmulator } from '../../local/ssm/ssm-emulator.ts';

describe('SsmParameterStore on the SSM stand-in', () => {
  let dataDir: string;
  let emulator: RunningSsmEmulator;
  let client: SSMClient;
  let store: SsmParameterStore;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'maestro-parameter-store-'));
    emulator = await startSsmEmulator({ dataDir });
    client = new SSMClient({
      endpoint: emulator.url,
      region: emulator.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    store = new SsmParameterStore(client);
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes versions, reads the current one and any earlier one; missing reads are undefined', async () => {
    expect(await store.get('/app/mode')).toBeUndefined();
    expect(await store.put({ name: '/app/mode', value: 'blue', type: 'String', overwrite: false })).toEqual({ version: 1 });
    expect(await store.put({ name: '/app/mode', value: 'green', type: 'String', overwrite: true })).toEqual({ version: 2 });
    expect(await store.get('/app/mode')).toMatchObject({ name: '/app/mode', value: 'green', type: 'String', version: 2 });
    expect(await store.getVersion('/app/mode', 1)).toMatchObject({ value: 'blue', version: 1 });
    expect(await store.getVersion('/app/mode', 7)).toBeUndefined();
  });

  it('restores a previous version by writing its value back, so the history keeps both', async () => {
    await store.put({ name: '/app/limit', value: '10', type: 'String', overwrite: false });
    await store.put({ name: '/app/limit', value: '99', type: 'String', overwrite: true });
    const previous = (await store.getVersion('/app/limit', 1))!;
    expect(await store.put({ name: '/app/limit', value: previous.value, type: previous.type, overwrite: true })).toEqual({ version: 3 });
    const { Parameters } = await client.send(new GetParameterHistoryCommand({ Name: '/app/limit' }));
    expect(Parameters!.map((p) => p.Value)).toEqual(['10', '99', '10']);
  });

  it('reads a SecureString decrypted, so a rollback can write it back', async () => {
    await store.put({ name: '/db/password', value: 'hunter2', type: 'SecureString', overwrite: false });
    expect(await store.get('/db/password')).toMatchObject({ value: 'hunter2', type: 'SecureString' });
  });

  it('turns a create that lost the race into StalePlan and keeps the winner', async () => {
    await client.send(new PutParameterCommand({ Name: '/race/p', Value: 'winner', Type: 'String' }));
    await expect(store.put({ name: '/race/p', value: 'loser', type: 'String', overwrite: false })).rejects.toBeInstanceOf(StalePlan);
    expect((await store.get('/race/p'))!.value).toBe('winner');
  });

  it('turns a refused name into ActionFailed naming the field', async () => {
    const refused = await store.put({ name: 'no/leading/slash', value: 'x', type: 'String', overwrite: false }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ActionFailed);
    expect((refused as ActionFailed).field).toBe('name');
  });

  it('deletes, and says false when there was nothing to delete', async () => {
    await store.put({ name: '/tmp/p', value: 'x', type: 'String', overwrite: false });
    expect(await store.delete('/tmp/p')).toBe(true);
    expect(await store.delete('/tmp/p')).toBe(false);
    expect(await store.get('/tmp/p')).toBeUndefined();
  });
});
