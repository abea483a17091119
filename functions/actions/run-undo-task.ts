import * as z from 'zod';
import { canonicalJson, sha256Hex } from '../core/canonical-json.ts';
import { ActionFailed, StalePlan, VerificationFailed } from '../core/errors.ts';
import type { Action, ActionContext } from '../core/actions/contract.ts';
import type { Item } from '../core/actions/ports.ts';
import type { TaskPlan } from '../core/runs/model.ts';
import { describeBody, renderDiff, stableJson } from './render-diff.ts';

/**
 * Undoes one applied task of a finished run, as a task of a rollback run (POST /runs/{id}/rollback).
 * The control plane copies the original task's plan and outcome into the params (the executor cannot
 * read Maestro's state). The plan reads the target and refuses with StalePlan unless it is still
 * exactly what the original run left (the object version it wrote, the item it wrote); its diff is
 * current → restored. Apply re-checks that precondition and restores, conditionally where the store
 * allows it; verify reads the restored state back.
 */
const UndoTaskParams = z.strictObject({
  /** The task being undone. */
  of: z.strictObject({ runId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/), taskIndex: z.number().int().min(0) }),
  action: z.string().min(1).max(100),
  /** The original task's plan: resource, change and action data (what was there before, what was written). */
  resource: z.string().min(1).max(2048),
  change: z.enum(['create', 'update', 'delete']),
  data: z.record(z.string(), z.unknown()),
  /** The original task's recorded outcome (the version it wrote). */
  outcome: z.record(z.string(), z.unknown()).default({}),
});
type UndoTaskParams = z.infer<typeof UndoTaskParams>;

/** How one kind of action is undone. */
interface Undoer {
  plan(params: UndoTaskParams, ctx: ActionContext): Promise<TaskPlan>;
  apply(plan: TaskPlan, ctx: ActionContext): Promise<Record<string, unknown>>;
  verify(plan: TaskPlan, ctx: ActionContext): Promise<void>;
}

const stale = (params: UndoTaskParams, what: string) =>
  new StalePlan(`${params.resource} changed after run ${params.of.runId} (task ${params.of.taskIndex}): ${what}; it is not rolled back`, {
    details: { resource: params.resource, runId: params.of.runId, taskIndex: params.of.taskIndex },
  });

interface ObjectUndo extends Record<string, unknown> {
  bucket: string;
  key: string;
  /** The version the original wrote, which must still be current. */
  writtenVersionId: string;
  /** The version to make current again; null: the original created the object, so it is deleted. */
  restoreVersionId: string | null;
  /** The digest of what is restored (null: nothing, the key ends deleted). */
  restoredSha256: string | null;
}

const s3Undo: Undoer = {
  async plan(params, ctx) {
    const bucket = String(params.data.bucket);
    const key = String(params.data.key);
    const written = typeof params.outcome.versionId === 'string' ? params.outcome.versionId : undefined;
    if (!written) throw new ActionFailed(`task ${params.of.taskIndex} of run ${params.of.runId} recorded no object version; it cannot be undone exactly`);
    const current = await ctx.objects.get(bucket, key);
    if (!current) throw stale(params, 'the object is gone');
    if (current.versionId !== written) throw stale(params, `its current version is ${current.versionId}, not ${written} which the run wrote`);
    const restoreVersionId = typeof params.data.previousVersionId === 'string' ? params.data.previousVersionId : null;
    const restored = restoreVersionId ? await ctx.objects.get(bucket, key, restoreVersionId) : undefined;
    if (restoreVersionId && !restored) throw stale(params, `the version to restore (${restoreVersionId}) is gone`);
    const currentSha = sha256Hex(current.body);
    const restoredSha = restored ? sha256Hex(restored.body) : null;
    const data: ObjectUndo = { bucket, key, writtenVersionId: written, restoreVersionId, restoredSha256: restoredSha };
    return {
      summary: restoreVersionId
        ? `restore ${params.resource} to version ${restoreVersionId} (undo run ${params.of.runId})`
        : `delete ${params.resource}, which run ${params.of.runId} created`,
      change: restoreVersionId ? 'update' : 'delete',
      resource: params.resource,
      diff: renderDiff(params.resource, describeBody(current.body, currentSha), restored ? describeBody(restored.body, restoredSha!) : undefined),
      preconditions: { versionId: written, etag: current.etag },
      data,
    };
  },
  async apply(plan, ctx) {
    const data = plan.data as ObjectUndo;
    const current = await ctx.objects.head(data.bucket, data.key);
    if (current?.versionId !== data.writtenVersionId) {
      // A replay after the restore went through: the key already holds what was restored.
      const now = current ? await ctx.objects.get(data.bucket, data.key) : undefined;
      const restoredAlready = data.restoreVersionId ? now !== undefined && sha256Hex(now.body) === data.restoredSha256 : current === undefined;
      if (restoredAlready) return { versionId: current?.versionId ?? null, replayed: true };
      throw new StalePlan(`${plan.resource} changed since the rollback was planned (current version ${current?.versionId ?? 'none'})`);
    }
    await ctx.writeGuard?.assertWritable({ kind: 'object', bucket: data.bucket, key: data.key });
    const result = data.restoreVersionId
      ? await ctx.objects.restoreVersion(data.bucket, data.key, data.restoreVersionId)
      : await ctx.objects.delete(data.bucket, data.key);
    return { versionId: result.versionId ?? null };
  },
  async verify(plan, ctx) {
    const data = plan.data as ObjectUndo;
    const current = await ctx.objects.get(data.bucket, data.key);
    if (data.restoredSha256 === null) {
      if (current) throw new VerificationFailed(`${plan.resource} still exists after the rollback deleted it`);
      return;
    }
    if (!current || sha256Hex(current.body) !== data.restoredSha256)
      throw new VerificationFailed(`${plan.resource} does not read back as the restored version`);
  },
};

interface ItemUndo extends Record<string, unknown> {
  table: string;
  key: Item;
  /** What the original wrote, which must still be stored. */
  written: Item;
  /** What is put back; null: the original created the item, so it is deleted. */
  previous: Item | null;
}
const same = (a: Item | undefined | null, b: Item | undefined | null) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

const itemUndo: Undoer = {
  async plan(params, ctx) {
    const table = String(params.data.table);
    const key = params.data.key as Item;
    const written = params.data.item as Item;
    const previous = (params.data.previous as Item | null | undefined) ?? null;
    const current = await ctx.items.get(table, key);
    if (!same(current, written)) throw stale(params, current ? 'the item is not the one the run wrote' : 'the item is gone');
    const data: ItemUndo = { table, key, written, previous };
    return {
      summary: previous
        ? `put back the previous item ${params.resource} (undo run ${params.of.runId})`
        : `delete item ${params.resource}, which run ${params.of.runId} created`,
      change: previous ? 'update' : 'delete',
      resource: params.resource,
      diff: renderDiff(params.resource, stableJson(written), previous ? stableJson(previous) : undefined),
      preconditions: { item: written },
      data,
    };
  },
  async apply(plan, ctx) {
    const data = plan.data as ItemUndo;
    const current = await ctx.items.get(data.table, data.key);
    if (same(current, data.previous)) return { replayed: true };
    await ctx.writeGuard?.assertWritable({ kind: 'table', table: data.table });
    // Conditional on the item still being the one the run wrote (else StalePlan).
    if (data.previous) await ctx.items.put(data.table, data.previous, data.written);
    else await ctx.items.delete(data.table, data.key, data.written);
    return { restored: true };
  },
  async verify(plan, ctx) {
    const data = plan.data as ItemUndo;
    if (!same(await ctx.items.get(data.table, data.key), data.previous)) throw new VerificationFailed(`item ${plan.resource} does not read back as restored`);
  },
};

const UNDOERS: ReadonlyMap<string, Undoer> = new Map([
  ['s3.put-object', s3Undo],
  ['dynamodb.put-item', itemUndo],
]);
const undoerOf = (action: string): Undoer => {
  const undoer = UNDOERS.get(action);
  if (!undoer)
    throw new ActionFailed(`a task of ${action} cannot be undone by a rollback run (undoable: ${[...UNDOERS.keys()].join(', ')})`, { field: 'action' });
  return undoer;
};
/** Which original action a planned undo is for (kept in the plan so apply and verify need no params). */
const undoerFor = (plan: TaskPlan) => undoerOf(String(plan.data.undoes));

export const UNDOABLE_ACTIONS: readonly string[] = [...UNDOERS.keys()];

export const runUndoTask: Action<UndoTaskParams> = {
  name: 'run.undo-task',
  version: '1.0.0',
  description:
    "Undoes one applied task of a finished run (a rollback run's task): restores what was there before, refused as StalePlan if the resource changed since.",
  safety: { category: 'ROLLBACK', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: UndoTaskParams,
  resources: (params) => [{ uri: params.resource, access: 'write' }],
  examples: [
    {
      description: 'Undo task 0 of a run that wrote an object (built by POST /runs/{id}/rollback, not by hand)',
      params: {
        of: { runId: '00000000-0000-4000-8000-000000000000', taskIndex: 0 },
        action: 's3.put-object',
        resource: 's3://maestro-demo/notes/hello.txt',
        change: 'update',
        data: { bucket: 'maestro-demo', key: 'notes/hello.txt', previousVersionId: 'v1' },
        outcome: { versionId: 'v2' },
      },
    },
  ],
  async plan(params, ctx) {
    const plan = await undoerOf(params.action).plan(params, ctx);
    return { ...plan, data: { ...plan.data, undoes: params.action } };
  },
  apply: (plan, ctx) => undoerFor(plan).apply(plan, ctx),
  verify: (plan, _outcome, ctx) => undoerFor(plan).verify(plan, ctx),
  // A failed undo is not itself undone: the resource stays as the undo left it, and the run's events say so.
  async rollback() {},
};
