import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3CopyObject } from '../../functions/actions/s3-copy-object.ts';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import { resolveGuardrails } from '../../functions/core/config/guardrails.ts';
import { ActionFailed, ResourceNotManaged, StalePlan, TransientError, VerificationFailed } from '../../functions/core/errors.ts';
import { assertManagedResources } from '../../functions/core/safety/managed-resources.ts';
import { overriding, planOf, startActionTargets, type ActionTargets } from '../support/action-targets.ts';

let targets: ActionTargets;
beforeAll(async () => {
  targets = await startActionTargets('s3-copy');
});
afterAll(async () => {
  await targets?.stop();
});

const put = async (key: string, body: string, metadata?: Record<string, string>, bucket = targets.bucket) =>
  (await targets.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain', Metadata: metadata }))).VersionId!;
const read = async (key: string) => {
  const object = await targets.s3.send(new GetObjectCommand({ Bucket: targets.bucket, Key: key }));
  return { body: await object.Body!.transformToString(), versionId: object.VersionId, metadata: object.Metadata };
};
const params = (from: string, to: string, versionId?: string) => ({
  source: { bucket: targets.bucket, key: from, ...(versionId ? { versionId } : {}) },
  destination: { bucket: targets.bucket, key: to },
});

describe('s3.copy-object', () => {
  it('plans the destination before → after, and planning changes nothing', async () => {
    await put('plan/src.txt', 'new line\n');
    const v0 = await put('plan/dst.txt', 'old line\n');
    const ctx = targets.context();
    const plan = await planOf(s3CopyObject, params('plan/src.txt', 'plan/dst.txt'), ctx);
    expect(plan).toMatchObject({ change: 'update', resource: 's3://maestro-demo/plan/dst.txt', preconditions: { versionId: v0 } });
    expect(plan.diff).toContain('-old line');
    expect(plan.diff).toContain('+new line');
    expect(await targets.history('plan/dst.txt')).toEqual([`v:${v0}`]);

    const same = await planOf(s3CopyObject, params('plan/dst.txt', 'plan/dst-copy.txt'), ctx);
    expect(same.change).toBe('create');
    await put('plan/dst-copy.txt', 'old line\n');
    expect((await planOf(s3CopyObject, params('plan/dst.txt', 'plan/dst-copy.txt'), ctx)).change).toBe('none');
  });

  it('copies the pinned source version, marked as ours; a second apply changes nothing; verify compares sha256', async () => {
    const s1 = await put('apply/src.txt', 'version one\n', { owner: 'team-a' });
    await put('apply/src.txt', 'version two\n');
    const ctx = targets.context();
    const plan = await planOf(s3CopyObject, params('apply/src.txt', 'apply/dst.txt', s1), ctx);
    expect(plan.change).toBe('create');
    const outcome = await s3CopyObject.apply(plan, ctx);
    expect(await read('apply/dst.txt')).toMatchObject({
      body: 'version one\n',
      versionId: outcome.versionId,
      metadata: { owner: 'team-a', 'maestro-idempotency-key': ctx.idempotencyKey },
    });
    await s3CopyObject.verify(plan, outcome, ctx);
    const history = await targets.history('apply/dst.txt');
    expect(await s3CopyObject.apply(plan, { ...ctx, attempt: 2 })).toMatchObject({ replayed: true, versionId: outcome.versionId });
    expect(await targets.history('apply/dst.txt')).toEqual(history);
  });

  it('refuses with StalePlan, writing nothing, when the destination or the source changed after the plan', async () => {
    await put('stale/src.txt', 'source\n');
    await put('stale/dst.txt', 'planned destination\n');
    const ctx = targets.context();
    const plan = await planOf(s3CopyObject, params('stale/src.txt', 'stale/dst.txt'), ctx);
    await put('stale/dst.txt', 'someone else wrote this\n');
    const before = await targets.history('stale/dst.txt');
    await expect(s3CopyObject.apply(plan, ctx)).rejects.toBeInstanceOf(StalePlan);
    expect(await targets.history('stale/dst.txt')).toEqual(before);

    // A destination created after a plan that saw none.
    const create = await planOf(s3CopyObject, params('stale/src.txt', 'stale/new.txt'), ctx);
    await put('stale/new.txt', 'got here first\n');
    await expect(s3CopyObject.apply(create, ctx)).rejects.toBeInstanceOf(StalePlan);
    expect(await targets.history('stale/new.txt')).toHaveLength(1);

    // An unversioned source rewritten after the plan (nothing pins its version but its ETag).
    await put('src.txt', 'planned source\n', undefined, targets.unversionedBucket);
    const unpinned = await planOf(
      s3CopyObject,
      { source: { bucket: targets.unversionedBucket, key: 'src.txt' }, destination: { bucket: targets.bucket, key: 'stale/from-plain.txt' } },
      ctx,
    );
    await put('src.txt', 'rewritten source\n', undefined, targets.unversionedBucket);
    await expect(s3CopyObject.apply(unpinned, ctx)).rejects.toBeInstanceOf(StalePlan);
    expect(await targets.history('stale/from-plain.txt')).toEqual([]);
  });

  it('verify fails when the destination does not read back as the source', async () => {
    await put('verify/src.txt', 'source\n');
    const ctx = targets.context();
    const plan = await planOf(s3CopyObject, params('verify/src.txt', 'verify/dst.txt'), ctx);
    await put('verify/dst.txt', 'something else\n');
    await expect(s3CopyObject.verify(plan, {}, ctx)).rejects.toBeInstanceOf(VerificationFailed);
  });

  it("rollback makes the destination's previous version current again, or deletes the copy it created, once", async () => {
    await put('rollback/src.txt', 'copied\n');
    await put('rollback/dst.txt', 'previous\n', { owner: 'team-a' });
    const ctx = targets.context();
    const plan = await planOf(s3CopyObject, params('rollback/src.txt', 'rollback/dst.txt'), ctx);
    const outcome = await s3CopyObject.apply(plan, ctx);
    await s3CopyObject.rollback(plan, outcome, ctx);
    expect(await read('rollback/dst.txt')).toMatchObject({ body: 'previous\n', metadata: { owner: 'team-a' } });
    const history = await targets.history('rollback/dst.txt');
    expect(history).toHaveLength(3);
    await s3CopyObject.rollback(plan, outcome, ctx);
    expect(await targets.history('rollback/dst.txt')).toEqual(history);

    const created = await planOf(s3CopyObject, params('rollback/src.txt', 'rollback/new.txt'), ctx);
    await s3CopyObject.rollback(created, await s3CopyObject.apply(created, ctx), ctx);
    const gone = await targets.s3.send(new HeadObjectCommand({ Bucket: targets.bucket, Key: 'rollback/new.txt' })).catch((error: Error) => error);
    expect(gone).toMatchObject({ name: 'NotFound' });
    expect((await targets.history('rollback/new.txt'))[0]).toMatch(/^m:/);
  });

  it("rollback never overwrites someone else's later write", async () => {
    await put('rollback/src2.txt', 'copied\n');
    await put('rollback/dst2.txt', 'previous\n');
    const ctx = targets.context();
    const plan = await planOf(s3CopyObject, params('rollback/src2.txt', 'rollback/dst2.txt'), ctx);
    const outcome = await s3CopyObject.apply(plan, ctx);
    const theirs = await put('rollback/dst2.txt', 'written after the copy\n');
    const history = await targets.history('rollback/dst2.txt');
    await s3CopyObject.rollback(plan, outcome, ctx);
    expect(await targets.history('rollback/dst2.txt')).toEqual(history);
    expect(await read('rollback/dst2.txt')).toMatchObject({ body: 'written after the copy\n', versionId: theirs });
  });

  it('a replay after a crash between the copy and the recorded outcome recognises its own copy', async () => {
    await put('crash/src.txt', 'x\n');
    const ctx = targets.context();
    const plan = await planOf(s3CopyObject, params('crash/src.txt', 'crash/dst.txt'), ctx);
    const lost: ActionContext = {
      ...ctx,
      objects: overriding(ctx.objects, {
        copy: async (request) => {
          await ctx.objects.copy(request);
          throw new TransientError('connection reset after the copy');
        },
      }),
    };
    await expect(s3CopyObject.apply(plan, lost)).rejects.toBeInstanceOf(TransientError);
    const history = await targets.history('crash/dst.txt');
    expect(history).toHaveLength(1);
    expect(await s3CopyObject.apply(plan, { ...ctx, attempt: 2 })).toMatchObject({ replayed: true, versionId: history[0].slice(2) });
    expect(await targets.history('crash/dst.txt')).toEqual(history);
  });

  it('refuses a missing source naming the field, and a copy of an object onto itself', async () => {
    const ctx = targets.context();
    await expect(s3CopyObject.plan(s3CopyObject.schema.parse(params('absent/src.txt', 'absent/dst.txt')), ctx)).rejects.toMatchObject({
      name: 'ActionFailed',
      field: 'source.key',
    });
    await expect(s3CopyObject.plan(s3CopyObject.schema.parse(params('absent/src.txt', 'absent/dst.txt')), ctx)).rejects.toBeInstanceOf(ActionFailed);
    const self = s3CopyObject.schema.safeParse(params('a.txt', 'a.txt'));
    expect(self.success).toBe(false);
    expect(self.error?.issues[0].path).toEqual(['destination']);
  });

  it('declares its source as read and its destination as write, so an unmanaged source is refused', () => {
    const guardrails = resolveGuardrails({ environments: { dev: { managedResources: { buckets: ['maestro-demo'] } } } }, {}, parseYaml);
    const resources = s3CopyObject.resources(
      s3CopyObject.schema.parse({ source: { bucket: 'team-secrets', key: 'payroll.csv' }, destination: { bucket: 'maestro-demo', key: 'leak.csv' } }),
    );
    expect(resources).toEqual([
      { uri: 's3://team-secrets/payroll.csv', access: 'read' },
      { uri: 's3://maestro-demo/leak.csv', access: 'write' },
    ]);
    let refused: unknown;
    try {
      assertManagedResources({ guardrails, environment: 'dev', resources });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ResourceNotManaged);
    expect((refused as ResourceNotManaged).details).toMatchObject({ resource: 's3://team-secrets/payroll.csv', access: 'read' });
  });
});
