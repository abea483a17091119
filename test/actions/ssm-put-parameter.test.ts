import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ssmPutParameter } from '../../functions/actions/ssm-put-parameter.ts';
import { SsmParameterStore } from '../../functions/adapters/ssm-parameter-store.ts';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import { StalePlan, VerificationFailed } from '../../functions/core/errors.ts';
import { startSsmEmulator } from '../../local/ssm/ssm-emulator.ts';
import type { RunningSsmEmulator } from '../../local/ssm/ssm-emulator.ts';

let dataDir: string;
let emulator: RunningSsmEmulator;
let ssm: SSMClient;
let ctx: ActionContext;

const read = async (name: string) =>
  (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true })).catch(() => ({ Parameter: undefined }))).Parameter;
const history = async (name: string) =>
  (await ssm.send(new GetParameterHistoryCommand({ Name: name, WithDecryption: true }))).Parameters!.map((version) => [version.Version, version.Value]);
const params = (name: string, value: string, type?: string) => ssmPutParameter.schema.parse({ name, value, ...(type ? { type } : {}) });

async function refusal(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('accepted');
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'maestro-put-parameter-'));
  emulator = await startSsmEmulator({ dataDir });
  ssm = new SSMClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  ctx = {
    objects: undefined as never,
    items: undefined as never,
    parameters: new SsmParameterStore(ssm),
    runId: 'run-1',
    taskIndex: 0,
    idempotencyKey: 'run-1#0',
    attempt: 1,
  };
});

afterAll(async () => {
  ssm?.destroy();
  await emulator?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('ssm.put-parameter against the SSM stand-in (real SDK client)', () => {
  it('refuses reserved names, paths and oversized values, naming the field; names its resource', () => {
    const issue = (input: Record<string, unknown>) => ssmPutParameter.schema.safeParse({ name: '/a/b', value: 'x', ...input }).error?.issues[0].path;
    expect(issue({ name: '/aws/x' })).toEqual(['name']);
    expect(issue({ name: '/a/' })).toEqual(['name']);
    expect(issue({ value: 'x'.repeat(4097) })).toEqual(['value']);
    expect(issue({ type: 'Secret' })).toEqual(['type']);
    expect(ssmPutParameter.resources(params('/maestro-demo/flag', 'on'))).toEqual([{ uri: 'ssm:///maestro-demo/flag', access: 'write' }]);
  });

  it('creates: plan writes nothing, apply twice writes one version, verify passes, rollback deletes it', async () => {
    const name = '/maestro-demo/create';
    const plan = await ssmPutParameter.plan(params(name, 'on'), ctx);
    expect(plan).toMatchObject({ change: 'create', preconditions: { version: null } });
    expect(plan.diff).toContain('+value: on');
    expect(await read(name)).toBeUndefined();
    expect(await ssmPutParameter.apply(plan, ctx)).toEqual({ version: 1 });
    expect(await ssmPutParameter.apply(plan, { ...ctx, attempt: 2 })).toEqual({ version: 1, replayed: true });
    expect(await history(name)).toEqual([[1, 'on']]);
    await ssmPutParameter.verify(plan, { version: 1 }, ctx);
    await ssmPutParameter.rollback(plan, { version: 1 }, ctx);
    expect(await read(name)).toBeUndefined();
  });

  it('updates: the diff shows before and after, rollback writes the previous value back as a new version', async () => {
    const name = '/maestro-demo/update';
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'off', Type: 'String' }));
    const plan = await ssmPutParameter.plan(params(name, 'on'), ctx);
    expect(plan).toMatchObject({ change: 'update', preconditions: { version: 1 }, summary: 'update ssm:///maestro-demo/update (version 1 → 2, String)' });
    expect(plan.diff).toContain('-value: off');
    expect(plan.diff).toContain('+value: on');
    const outcome = await ssmPutParameter.apply(plan, ctx);
    expect(outcome).toEqual({ version: 2 });
    await ssmPutParameter.verify(plan, outcome, ctx);
    await ssmPutParameter.rollback(plan, outcome, ctx);
    expect(await read(name)).toMatchObject({ Value: 'off', Type: 'String', Version: 3 });
    expect(await history(name)).toEqual([
      [1, 'off'],
      [2, 'on'],
      [3, 'off'],
    ]);
    // A second rollback finds the current version is not ours: nothing written.
    await ssmPutParameter.rollback(plan, outcome, ctx);
    expect((await read(name))!.Version).toBe(3);
  });

  it('plans a no-op for the value it holds; apply then writes nothing', async () => {
    const name = '/maestro-demo/same';
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'v', Type: 'String' }));
    const plan = await ssmPutParameter.plan(params(name, 'v'), ctx);
    expect(plan).toMatchObject({ change: 'none', diff: '' });
    expect(await ssmPutParameter.apply(plan, ctx)).toEqual({ version: 1, unchanged: true });
    await ssmPutParameter.rollback(plan, undefined, ctx);
    expect(await history(name)).toEqual([[1, 'v']]);
  });

  it('refuses with StalePlan when the parameter changed (or appeared) since the plan, and writes nothing', async () => {
    const name = '/maestro-demo/stale';
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'a', Type: 'String' }));
    const plan = await ssmPutParameter.plan(params(name, 'b'), ctx);
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'someone else', Type: 'String', Overwrite: true }));
    expect(await refusal(() => ssmPutParameter.apply(plan, ctx))).toBeInstanceOf(StalePlan);
    expect(await history(name)).toEqual([
      [1, 'a'],
      [2, 'someone else'],
    ]);
    // Rollback never writes over their change.
    await ssmPutParameter.rollback(plan, undefined, ctx);
    expect((await read(name))!.Value).toBe('someone else');

    const created = '/maestro-demo/appeared';
    const createPlan = await ssmPutParameter.plan(params(created, 'mine'), ctx);
    await ssm.send(new PutParameterCommand({ Name: created, Value: 'theirs', Type: 'String' }));
    expect(await refusal(() => ssmPutParameter.apply(createPlan, ctx))).toBeInstanceOf(StalePlan);
    expect(await history(created)).toEqual([[1, 'theirs']]);
  });

  it('never shows a SecureString value in the plan or an error, and rolls it back to the previous secret', async () => {
    const name = '/maestro-demo/secret';
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'old-secret', Type: 'SecureString' }));
    const plan = await ssmPutParameter.plan(params(name, 'new-secret', 'SecureString'), ctx);
    const shown = JSON.stringify({ summary: plan.summary, diff: plan.diff });
    expect(shown).not.toContain('old-secret');
    expect(shown).not.toContain('new-secret');
    expect(plan.diff).toContain('-value: <SecureString, version 1, not shown>');
    expect(plan.diff).toContain('+value: <SecureString, the new value, not shown>');
    const outcome = await ssmPutParameter.apply(plan, ctx);
    await ssmPutParameter.verify(plan, outcome, ctx);
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'tampered-secret', Type: 'SecureString', Overwrite: true }));
    const error = await refusal(() => ssmPutParameter.verify(plan, outcome, ctx));
    expect(error).toBeInstanceOf(VerificationFailed);
    expect(error.message).not.toMatch(/old-secret|new-secret|tampered-secret/);
    // Back to what we wrote, then rolled back: the old secret, still a SecureString.
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'new-secret', Type: 'SecureString', Overwrite: true }));
    await ssmPutParameter.rollback(plan, { version: 4 }, ctx);
    expect(await read(name)).toMatchObject({ Value: 'old-secret', Type: 'SecureString', Version: 5 });
  });
});
