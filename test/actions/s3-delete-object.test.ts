import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3DeleteObject } from '../../functions/actions/s3-delete-object.ts';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import { ActionFailed, StalePlan, TransientError, VerificationFailed } from '../../functions/core/errors.ts';
import { overriding, planOf, startActionTargets, type ActionTargets } from '../support/action-targets.ts';

let targets: ActionTargets;
beforeAll(async () => {
  targets = await startActionTargets('s3-delete');
});
afterAll(async () => {
  await targets?.stop();
});

const put = async (key: string, body: string, metadata?: Record<string, string>) =>
  (await targets.s3.send(new PutObjectCommand({ Bucket: targets.bucket, Key: key, Body: body, ContentType: 'text/plain', Metadata: metadata }))).VersionId!;
const read = async (key: string) => {
  const object = await targets.s3.send(new GetObjectCommand({ Bucket: targets.bucket, Key: key }));
  return { body: await object.Body!.transformToString(), versionId: object.VersionId, metadata: object.Metadata, contentType: object.ContentType };
};
const params = (key: string) => ({ bucket: targets.bucket, key });

describe('s3.delete-object', () => {
  it('plans the content removed, and planning changes nothing', async () => {
    const v0 = await put('plan/a.txt', 'line one\nline two\n');
    const ctx = targets.context();
    const plan = await planOf(s3DeleteObject, params('plan/a.txt'), ctx);
    expect(plan).toMatchObject({ change: 'delete', resource: 's3://maestro-demo/plan/a.txt', preconditions: { versionId: v0 } });
    expect(plan.diff).toContain('+++ /dev/null');
    expect(plan.diff).toContain('-line one');
    expect(plan.diff).toContain('-line two');
    expect(await targets.history('plan/a.txt')).toEqual([`v:${v0}`]);
  });

  it('deletes with a delete marker over a copy marked as ours; a second apply changes nothing', async () => {
    const v0 = await put('apply/a.txt', 'hello\n');
    const ctx = targets.context();
    const plan = await planOf(s3DeleteObject, params('apply/a.txt'), ctx);
    const outcome = await s3DeleteObject.apply(plan, ctx);
    const history = await targets.history('apply/a.txt');
    expect(history).toEqual([`m:${outcome.deleteMarkerVersionId}`, `v:${outcome.markedVersionId}`, `v:${v0}`]);
    await s3DeleteObject.verify(plan, outcome, ctx);

    const again = await s3DeleteObject.apply(plan, { ...ctx, attempt: 2 });
    expect(again).toMatchObject({ replayed: true, deleteMarkerVersionId: outcome.deleteMarkerVersionId });
    expect(await targets.history('apply/a.txt')).toEqual(history);
  });

  it('refuses with StalePlan, writing nothing, when the object changed or was deleted after the plan', async () => {
    await put('stale/a.txt', 'planned\n');
    const ctx = targets.context();
    const plan = await planOf(s3DeleteObject, params('stale/a.txt'), ctx);
    const theirs = await put('stale/a.txt', 'someone else wrote this\n');
    const before = await targets.history('stale/a.txt');
    await expect(s3DeleteObject.apply(plan, ctx)).rejects.toBeInstanceOf(StalePlan);
    expect(await targets.history('stale/a.txt')).toEqual(before);
    expect((await read('stale/a.txt')).versionId).toBe(theirs);

    await put('stale/b.txt', 'planned\n');
    const other = await planOf(s3DeleteObject, params('stale/b.txt'), ctx);
    await targets.s3.send(new DeleteObjectCommand({ Bucket: targets.bucket, Key: 'stale/b.txt' }));
    const deleted = await targets.history('stale/b.txt');
    await expect(s3DeleteObject.apply(other, ctx)).rejects.toBeInstanceOf(StalePlan);
    expect(await targets.history('stale/b.txt')).toEqual(deleted);
    // Their delete is not ours to undo.
    await s3DeleteObject.rollback(other, undefined, ctx);
    expect(await targets.history('stale/b.txt')).toEqual(deleted);
  });

  it('verify fails while an object is current', async () => {
    await put('verify/a.txt', 'still here\n');
    const ctx = targets.context();
    const plan = await planOf(s3DeleteObject, params('verify/a.txt'), ctx);
    await expect(s3DeleteObject.verify(plan, {}, ctx)).rejects.toBeInstanceOf(VerificationFailed);
  });

  it('rollback makes the deleted version current again, byte for byte with its metadata, once', async () => {
    const v0 = await put('rollback/a.txt', 'keep me\n', { owner: 'team-a' });
    const ctx = targets.context();
    const plan = await planOf(s3DeleteObject, params('rollback/a.txt'), ctx);
    const outcome = await s3DeleteObject.apply(plan, ctx);
    await s3DeleteObject.rollback(plan, outcome, ctx);
    const restored = await read('rollback/a.txt');
    expect(restored).toMatchObject({ body: 'keep me\n', metadata: { owner: 'team-a' }, contentType: 'text/plain' });
    const history = await targets.history('rollback/a.txt');
    expect(history).toEqual([`v:${restored.versionId}`, `m:${outcome.deleteMarkerVersionId}`, `v:${outcome.markedVersionId}`, `v:${v0}`]);
    await s3DeleteObject.rollback(plan, outcome, ctx);
    expect(await targets.history('rollback/a.txt')).toEqual(history);
  });

  it("rollback never overwrites someone else's later write", async () => {
    await put('rollback/b.txt', 'ours to delete\n');
    const ctx = targets.context();
    const plan = await planOf(s3DeleteObject, params('rollback/b.txt'), ctx);
    const outcome = await s3DeleteObject.apply(plan, ctx);
    const theirs = await put('rollback/b.txt', 'written after the delete\n');
    const history = await targets.history('rollback/b.txt');
    await s3DeleteObject.rollback(plan, outcome, ctx);
    expect(await targets.history('rollback/b.txt')).toEqual(history);
    expect(await read('rollback/b.txt')).toMatchObject({ body: 'written after the delete\n', versionId: theirs });
  });

  it('a replay after a crash between the delete and the recorded outcome recognises its own delete', async () => {
    await put('crash/a.txt', 'x\n');
    const ctx = targets.context();
    const plan = await planOf(s3DeleteObject, params('crash/a.txt'), ctx);
    // The delete lands but its answer is lost (the process dies, or the connection drops).
    const lost: ActionContext = {
      ...ctx,
      objects: overriding(ctx.objects, {
        delete: async (...args: Parameters<ActionContext['objects']['delete']>) => {
          await ctx.objects.delete(...args);
          throw new TransientError('connection reset after the delete');
        },
      }),
    };
    await expect(s3DeleteObject.apply(plan, lost)).rejects.toBeInstanceOf(TransientError);
    const history = await targets.history('crash/a.txt');
    expect(history).toHaveLength(3);
    const replayed = await s3DeleteObject.apply(plan, { ...ctx, attempt: 2 });
    expect(replayed).toMatchObject({ replayed: true, deleteMarkerVersionId: history[0].slice(2) });
    expect(await targets.history('crash/a.txt')).toEqual(history);
    // A different task (another idempotency key) does not take that delete for its own.
    await expect(s3DeleteObject.apply(plan, targets.context({ attempt: 2 }))).rejects.toBeInstanceOf(StalePlan);
  });

  it('a crash between marking and deleting: the replay finishes the delete; a rollback instead puts the object back as it was', async () => {
    const v0 = await put('crash/b.txt', 'marked\n', { owner: 'team-b' });
    const ctx = targets.context();
    const plan = await planOf(s3DeleteObject, params('crash/b.txt'), ctx);
    const dies: ActionContext = {
      ...ctx,
      objects: overriding(ctx.objects, {
        delete: async () => {
          throw new TransientError('the process died before the delete');
        },
      }),
    };
    await expect(s3DeleteObject.apply(plan, dies)).rejects.toBeInstanceOf(TransientError);
    const marked = await targets.s3.send(new HeadObjectCommand({ Bucket: targets.bucket, Key: 'crash/b.txt' }));
    expect(marked.Metadata).toMatchObject({ owner: 'team-b', 'maestro-idempotency-key': ctx.idempotencyKey, 'maestro-deleted-version': v0 });

    // Rolled back instead of replayed: the marked copy gives way to the planned version, metadata and all.
    await s3DeleteObject.rollback(plan, undefined, ctx);
    const restored = await read('crash/b.txt');
    expect(restored).toMatchObject({ body: 'marked\n', metadata: { owner: 'team-b' } });
    expect(restored.metadata).not.toHaveProperty('maestro-idempotency-key');

    // The same crash, then the replay: one marked copy, one delete marker.
    const v1 = restored.versionId!;
    const ctx2 = targets.context();
    const plan2 = await planOf(s3DeleteObject, params('crash/b.txt'), ctx2);
    await expect(s3DeleteObject.apply(plan2, { ...dies, idempotencyKey: ctx2.idempotencyKey })).rejects.toBeInstanceOf(TransientError);
    const outcome = await s3DeleteObject.apply(plan2, { ...ctx2, attempt: 2 });
    const history = await targets.history('crash/b.txt');
    expect(history.slice(0, 3)).toEqual([`m:${outcome.deleteMarkerVersionId}`, `v:${outcome.markedVersionId}`, `v:${v1}`]);
    await s3DeleteObject.verify(plan2, outcome, ctx2);
  });

  it('plans no change for a missing object, and refuses an unversioned bucket naming the field', async () => {
    const ctx = targets.context();
    const plan = await planOf(s3DeleteObject, params('absent/a.txt'), ctx);
    expect(plan.change).toBe('none');
    expect(await s3DeleteObject.apply(plan, ctx)).toEqual({ deleted: false, unchanged: true });
    await put('absent/a.txt', 'created after the plan\n');
    await expect(s3DeleteObject.apply(plan, ctx)).rejects.toBeInstanceOf(StalePlan);

    await targets.s3.send(new PutObjectCommand({ Bucket: targets.unversionedBucket, Key: 'a.txt', Body: 'x' }));
    const refused = s3DeleteObject.plan({ bucket: targets.unversionedBucket, key: 'a.txt' }, ctx);
    await expect(refused).rejects.toBeInstanceOf(ActionFailed);
    await expect(refused).rejects.toMatchObject({ field: 'bucket' });
  });
});
