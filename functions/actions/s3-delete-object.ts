import * as z from 'zod';
import { ActionFailed, StalePlan, VerificationFailed } from '../core/errors.ts';
import type { TaskPlan } from '../core/runs/model.ts';
import type { Action, ActionContext } from '../core/actions/contract.ts';
import type { ObjectHead } from '../core/actions/ports.ts';
import { s3ObjectUri } from '../core/actions/resources.ts';
import { renderDiff } from './render-diff.ts';
import { bucketName, IDEMPOTENCY_METADATA, isOurs, objectKey, RUN_ID_METADATA, snapshotOf } from './s3-params.ts';

/** On the marked copy: the version id of the object the task deleted, which rollback makes current again. */
const DELETED_VERSION_METADATA = 'maestro-deleted-version';

const S3DeleteObjectParams = z.strictObject({ bucket: bucketName, key: objectKey });
type S3DeleteObjectParams = z.infer<typeof S3DeleteObjectParams>;

interface DeletePlanData extends Record<string, unknown> {
  bucket: string;
  key: string;
  previousVersionId: string | null;
}

const dataOf = (plan: TaskPlan) => plan.data as DeletePlanData;
const etagPrecondition = (plan: TaskPlan) => plan.preconditions.etag as string | null;

/**
 * The task's delete, if the key's history shows one: a delete marker on top, directly over the copy
 * the task marked with its idempotency key. Returns that marked copy (its metadata names what was deleted).
 */
async function ourDelete(ctx: ActionContext, bucket: string, key: string): Promise<{ markerVersionId: string; marked: ObjectHead } | undefined> {
  const [top, under] = await ctx.objects.history(bucket, key, 2);
  if (!top?.deleteMarker || !under || under.deleteMarker) return undefined;
  const marked = await ctx.objects.head(bucket, key, under.versionId);
  return marked && isOurs(marked, ctx) ? { markerVersionId: top.versionId, marked } : undefined;
}

/**
 * Deletes one object of a versioned bucket (a delete marker: history is kept). To know its own delete
 * after a crash, apply first copies the object onto itself marked with the task's idempotency key, then
 * deletes that marked copy; rollback copies the deleted version back while nothing is current.
 */
export const s3DeleteObject: Action<S3DeleteObjectParams> = {
  name: 's3.delete-object',
  version: '1.0.0',
  description:
    'Deletes an object from a versioned S3 bucket (a delete marker); plans show the content removed; rollback makes the deleted version current again.',
  safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: S3DeleteObjectParams,
  resources: (params) => [{ uri: s3ObjectUri(params.bucket, params.key), access: 'write' }],
  examples: [
    {
      description: 'Delete one object (versioning on, so rollback brings the deleted version back)',
      params: { bucket: 'maestro-demo', key: 'notes/obsolete.txt' },
    },
  ],

  async plan(params, ctx) {
    const resource = s3ObjectUri(params.bucket, params.key);
    const head = await ctx.objects.head(params.bucket, params.key);
    if (head && !head.versionId) {
      throw new ActionFailed(`bucket ${params.bucket} must have versioning enabled so that deleting ${params.key} can be rolled back`, { field: 'bucket' });
    }
    const data: DeletePlanData = { bucket: params.bucket, key: params.key, previousVersionId: head?.versionId ?? null };
    if (!head) {
      return { summary: `no change: ${resource} does not exist`, change: 'none', resource, diff: '', preconditions: { etag: null, versionId: null }, data };
    }
    const before = await snapshotOf(ctx, params.bucket, params.key, head);
    return {
      summary: `delete ${resource} (${head.size} bytes)`,
      change: 'delete',
      resource,
      diff: renderDiff(resource, before.text, undefined),
      preconditions: { etag: head.etag, versionId: head.versionId ?? null },
      data,
    };
  },

  async apply(plan, ctx) {
    const { bucket, key } = dataOf(plan);
    const uri = s3ObjectUri(bucket, key);
    const current = await ctx.objects.head(bucket, key);
    if (plan.change === 'none') {
      if (current) throw new StalePlan(`${uri} was created since it was planned`);
      return { deleted: false, unchanged: true };
    }
    if (!current) {
      // Nothing current: an earlier attempt of this task deleted it (a crash before its outcome was
      // recorded), or someone else did, which the plan did not show.
      const done = await ourDelete(ctx, bucket, key);
      if (done) return { deleted: true, deleteMarkerVersionId: done.markerVersionId, markedVersionId: done.marked.versionId ?? null, replayed: true };
      throw new StalePlan(`${uri} was deleted since it was planned`);
    }
    await ctx.writeGuard?.assertWritable({ kind: 'object', bucket, key });
    let marked: { etag: string; versionId?: string } = current;
    if (!isOurs(current, ctx)) {
      const planned = etagPrecondition(plan);
      if (current.etag !== planned) throw new StalePlan(`${uri} changed since it was planned`);
      marked = await ctx.objects.copy({
        source: { bucket, key, versionId: current.versionId, ifMatch: planned },
        bucket,
        key,
        ifMatch: planned,
        replace: {
          contentType: current.contentType,
          metadata: {
            ...current.metadata,
            [IDEMPOTENCY_METADATA]: ctx.idempotencyKey,
            [RUN_ID_METADATA]: ctx.runId,
            [DELETED_VERSION_METADATA]: current.versionId ?? '',
          },
        },
      });
    }
    const deleted = await ctx.objects.delete(bucket, key, { ifMatch: marked.etag });
    return { deleted: true, deleteMarkerVersionId: deleted.versionId ?? null, markedVersionId: marked.versionId ?? null };
  },

  async verify(plan, _outcome, ctx) {
    const { bucket, key } = dataOf(plan);
    const current = await ctx.objects.head(bucket, key);
    if (current) throw new VerificationFailed(`${s3ObjectUri(bucket, key)} still has a current object (ETag ${current.etag}) after the delete`);
  },

  async rollback(plan, _outcome, ctx) {
    if (plan.change === 'none') return;
    const { bucket, key } = dataOf(plan);
    const current = await ctx.objects.head(bucket, key);
    try {
      if (current) {
        // Apply marked the object but crashed before deleting it: put back the version it copied, as it was.
        const deletedVersion = current.metadata[DELETED_VERSION_METADATA];
        if (isOurs(current, ctx) && deletedVersion) {
          await ctx.writeGuard?.assertWritable({ kind: 'object', bucket, key });
          await ctx.objects.restoreVersion(bucket, key, deletedVersion, { ifMatch: current.etag });
        }
        // Anything else is someone's object (or the one we already restored): never overwritten.
        return;
      }
      const done = await ourDelete(ctx, bucket, key);
      // Not our delete on top (apply never deleted, or someone wrote or deleted after us): nothing of ours to undo.
      const deletedVersion = done?.marked.metadata[DELETED_VERSION_METADATA];
      if (!deletedVersion) return;
      await ctx.writeGuard?.assertWritable({ kind: 'object', bucket, key });
      // Only while nothing is current: a write that lands meanwhile wins, and we leave it.
      await ctx.objects.restoreVersion(bucket, key, deletedVersion, { ifNoneMatch: '*' });
    } catch (error) {
      if (error instanceof StalePlan) return;
      throw error;
    }
  },
};
