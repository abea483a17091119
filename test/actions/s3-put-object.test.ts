import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3PutObject } from '../../functions/actions/s3-put-object.ts';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import { StalePlan, TargetQuiesced } from '../../functions/core/errors.ts';
import { overriding, planOf, startActionTargets, type ActionTargets } from '../support/action-targets.ts';

let targets: ActionTargets;
beforeAll(async () => {
  targets = await startActionTargets('s3-put');
});
afterAll(async () => {
  await targets?.stop();
});

const params = (key: string, body: string) => ({ bucket: targets.bucket, key, body });
const bodyOf = async (key: string) => await (await targets.s3.send(new GetObjectCommand({ Bucket: targets.bucket, Key: key }))).Body!.transformToString();
/** The context, counting the object store's calls by method. */
function counted(ctx: ActionContext) {
  const calls: string[] = [];
  const objects = ctx.objects!;
  const counting = new Proxy(objects, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
  return { ctx: { ...ctx, objects: counting }, calls };
}
const quiesced = { assertWritable: async () => Promise.reject(new TargetQuiesced('the target is quiesced for a restore')) };

describe('s3.put-object apply', () => {
  it('writes with one conditional put, reading nothing first, over an object or where there was none', async () => {
    for (const key of ['one/new.txt', 'one/existing.txt']) {
      if (key.endsWith('existing.txt')) await targets.s3.send(new PutObjectCommand({ Bucket: targets.bucket, Key: key, Body: 'before\n' }));
      const plan = await planOf(s3PutObject, params(key, 'after\n'), targets.context());
      const { ctx, calls } = counted(targets.context());
      const outcome = await s3PutObject.apply(plan, ctx);
      expect(calls, key).toEqual(['put']);
      expect(outcome).not.toHaveProperty('replayed');
      expect(await bodyOf(key)).toBe('after\n');
    }
  });

  it('answers a replay with the version it wrote, writing nothing: refused by its condition, it finds its own write', async () => {
    const plan = await planOf(s3PutObject, params('replay/a.txt', 'mine\n'), targets.context());
    const ctx = targets.context();
    const first = await s3PutObject.apply(plan, ctx);
    const history = await targets.history('replay/a.txt');
    const again = counted({ ...ctx, attempt: 2 });
    expect(await s3PutObject.apply(plan, again.ctx)).toEqual({ versionId: first.versionId, etag: first.etag, replayed: true });
    expect(again.calls).toEqual(['put', 'head']);
    expect(await targets.history('replay/a.txt')).toEqual(history);
  });

  it('answers a replay while the target is quiesced as replayed (the guard refuses, nothing is written)', async () => {
    const plan = await planOf(s3PutObject, params('replay/quiesced.txt', 'mine\n'), targets.context());
    const ctx = targets.context();
    const first = await s3PutObject.apply(plan, ctx);
    const history = await targets.history('replay/quiesced.txt');
    expect(await s3PutObject.apply(plan, { ...ctx, attempt: 2, writeGuard: quiesced })).toMatchObject({ versionId: first.versionId, replayed: true });
    expect(await targets.history('replay/quiesced.txt')).toEqual(history);
    // A first apply while quiesced is refused, and writes nothing.
    const other = await planOf(s3PutObject, params('replay/never.txt', 'x\n'), targets.context());
    await expect(s3PutObject.apply(other, targets.context({ writeGuard: quiesced }))).rejects.toBeInstanceOf(TargetQuiesced);
    expect(await targets.history('replay/never.txt')).toEqual([]);
  });

  it('refuses with StalePlan when someone else wrote after the plan, and never writes over their change', async () => {
    const plan = await planOf(s3PutObject, params('stale/a.txt', 'planned\n'), targets.context());
    await targets.s3.send(new PutObjectCommand({ Bucket: targets.bucket, Key: 'stale/a.txt', Body: 'theirs\n' }));
    const before = await targets.history('stale/a.txt');
    await expect(s3PutObject.apply(plan, targets.context())).rejects.toBeInstanceOf(StalePlan);
    expect(await targets.history('stale/a.txt')).toEqual(before);
    expect(await bodyOf('stale/a.txt')).toBe('theirs\n');
  });

  it('passes on an error that is not a refusal without reading', async () => {
    const plan = await planOf(s3PutObject, params('error/a.txt', 'x\n'), targets.context());
    const ctx = targets.context();
    const failing = overriding(ctx.objects!, { put: async () => Promise.reject(new Error('socket hang up')) });
    const { ctx: countedCtx, calls } = counted({ ...ctx, objects: failing });
    await expect(s3PutObject.apply(plan, countedCtx)).rejects.toThrow('socket hang up');
    expect(calls).toEqual(['put']);
  });
});
