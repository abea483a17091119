import * as z from 'zod';
import { sha256Hex } from '../core/canonical-json.ts';
import { ActionFailed, StalePlan, VerificationFailed } from '../core/errors.ts';
import type { TaskPlan } from '../core/runs/model.ts';
import type { Action } from '../core/actions/contract.ts';
import { s3ObjectUri } from '../core/actions/resources.ts';
import { renderDiff } from './render-diff.ts';
import { bucketName, IDEMPOTENCY_METADATA, isOurs, objectKey, RUN_ID_METADATA, snapshotOf, versionIdParam } from './s3-params.ts';

const S3CopyObjectParams = z
  .strictObject({
    source: z.strictObject({ bucket: bucketName, key: objectKey, versionId: versionIdParam.optional() }),
    destination: z.strictObject({ bucket: bucketName, key: objectKey }),
  })
  .refine(
    (params) => params.source.versionId !== undefined || params.source.bucket !== params.destination.bucket || params.source.key !== params.destination.key,
    { message: 'must differ from source (or name a source.versionId to make that version current again)', path: ['destination'] },
  );
type S3CopyObjectParams = z.infer<typeof S3CopyObjectParams>;

interface CopyPlanData extends Record<string, unknown> {
  source: {
    bucket: string;
    key: string;
    /** The version the plan read, pinned so apply copies exactly what was reviewed (null: unversioned source). */
    versionId: string | null;
    etag: string;
    size: number;
    /** Null when the source was too large to read whole at plan time: verify then checks size and mark. */
    sha256: string | null;
    contentType: string | null;
    metadata: Record<string, string>;
  };
  bucket: string;
  key: string;
  previousVersionId: string | null;
}

const dataOf = (plan: TaskPlan) => plan.data as CopyPlanData;
const etagPrecondition = (plan: TaskPlan) => plan.preconditions.etag as string | null;

/** Copies one object server-side; rollback makes the destination's previous version current again, or deletes the copy. */
export const s3CopyObject: Action<S3CopyObjectParams> = {
  name: 's3.copy-object',
  version: '1.0.0',
  description:
    'Copies an S3 object (optionally one version) to a destination in a versioned bucket; plans diff the destination; rollback restores its previous version.',
  safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: S3CopyObjectParams,
  resources: (params) => [
    { uri: s3ObjectUri(params.source.bucket, params.source.key), access: 'read' },
    { uri: s3ObjectUri(params.destination.bucket, params.destination.key), access: 'write' },
  ],
  examples: [
    {
      description: 'Promote a staged object to its live key (rollback restores the previous live version)',
      params: { source: { bucket: 'maestro-demo', key: 'staging/flags.json' }, destination: { bucket: 'maestro-demo', key: 'config/flags.json' } },
      given: ['s3://maestro-demo/staging/flags.json'],
    },
  ],

  async plan(params, ctx) {
    const { source, destination } = params;
    const sourceUri = s3ObjectUri(source.bucket, source.key);
    const resource = s3ObjectUri(destination.bucket, destination.key);
    const sourceHead = await ctx.objects.head(source.bucket, source.key, source.versionId);
    if (!sourceHead) {
      throw new ActionFailed(`${sourceUri}${source.versionId ? ` version ${source.versionId}` : ''} does not exist`, {
        field: source.versionId ? 'source.versionId' : 'source.key',
      });
    }
    const head = await ctx.objects.head(destination.bucket, destination.key);
    if (head && !head.versionId) {
      throw new ActionFailed(`bucket ${destination.bucket} must have versioning enabled so that a change to ${destination.key} can be rolled back`, {
        field: 'destination.bucket',
      });
    }
    const after = await snapshotOf(ctx, source.bucket, source.key, sourceHead);
    const before = head ? await snapshotOf(ctx, destination.bucket, destination.key, head) : undefined;
    const unchanged = before !== undefined && after.sha256 !== null && before.sha256 === after.sha256;
    const data: CopyPlanData = {
      source: {
        bucket: source.bucket,
        key: source.key,
        versionId: sourceHead.versionId ?? null,
        etag: sourceHead.etag,
        size: sourceHead.size,
        sha256: after.sha256,
        contentType: sourceHead.contentType ?? null,
        metadata: sourceHead.metadata,
      },
      bucket: destination.bucket,
      key: destination.key,
      previousVersionId: head?.versionId ?? null,
    };
    const from = `${sourceUri}${sourceHead.versionId ? ` (version ${sourceHead.versionId})` : ''}`;
    return {
      summary: !head
        ? `create ${resource} as a copy of ${from} (${sourceHead.size} bytes)`
        : unchanged
          ? `no change to ${resource}: it already holds the content of ${from}`
          : `update ${resource} from ${from} (${head.size} → ${sourceHead.size} bytes)`,
      change: !head ? 'create' : unchanged ? 'none' : 'update',
      resource,
      diff: unchanged ? '' : renderDiff(resource, before?.text, after.text),
      preconditions: { etag: head?.etag ?? null, versionId: head?.versionId ?? null, sourceEtag: sourceHead.etag },
      data,
    };
  },

  async apply(plan, ctx) {
    const data = dataOf(plan);
    const current = await ctx.objects.head(data.bucket, data.key);
    if (isOurs(current, ctx)) return { versionId: current?.versionId ?? null, etag: current?.etag, replayed: true };
    const precondition = etagPrecondition(plan);
    if (plan.change === 'none') {
      if (current?.etag !== precondition) throw new StalePlan(`${s3ObjectUri(data.bucket, data.key)} changed since it was planned`);
      return { versionId: current?.versionId ?? null, etag: current?.etag ?? null, unchanged: true };
    }
    await ctx.writeGuard?.assertWritable({ kind: 'object', bucket: data.bucket, key: data.key });
    const copied = await ctx.objects.copy({
      source: { bucket: data.source.bucket, key: data.source.key, versionId: data.source.versionId ?? undefined, ifMatch: data.source.etag },
      bucket: data.bucket,
      key: data.key,
      ...(precondition === null ? { ifNoneMatch: '*' as const } : { ifMatch: precondition }),
      replace: {
        contentType: data.source.contentType ?? undefined,
        metadata: { ...data.source.metadata, [IDEMPOTENCY_METADATA]: ctx.idempotencyKey, [RUN_ID_METADATA]: ctx.runId },
      },
    });
    return { versionId: copied.versionId ?? null, etag: copied.etag };
  },

  async verify(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const uri = s3ObjectUri(data.bucket, data.key);
    if (data.source.sha256 === null) {
      const head = await ctx.objects.head(data.bucket, data.key);
      if (!head) throw new VerificationFailed(`${uri} is missing after the copy`);
      if (head.size !== data.source.size || !isOurs(head, ctx)) {
        throw new VerificationFailed(`${uri} is not the copy this task made (${head.size} bytes, expected ${data.source.size})`);
      }
      return;
    }
    const current = await ctx.objects.get(data.bucket, data.key);
    if (!current) throw new VerificationFailed(`${uri} is missing after the copy`);
    const actual = sha256Hex(current.body);
    if (actual !== data.source.sha256) throw new VerificationFailed(`${uri} reads back with sha256 ${actual}, expected ${data.source.sha256}`);
  },

  async rollback(plan, _outcome, ctx) {
    if (plan.change === 'none') return;
    const data = dataOf(plan);
    const current = await ctx.objects.head(data.bucket, data.key);
    // Not ours: apply never copied (it failed or crashed first), or someone wrote after us. Nothing of ours to undo.
    if (!current || !isOurs(current, ctx)) return;
    await ctx.writeGuard?.assertWritable({ kind: 'object', bucket: data.bucket, key: data.key });
    try {
      // Conditional on our copy still being current, so a write that lands meanwhile is never overwritten.
      if (data.previousVersionId) await ctx.objects.restoreVersion(data.bucket, data.key, data.previousVersionId, { ifMatch: current.etag });
      else await ctx.objects.delete(data.bucket, data.key, { ifMatch: current.etag });
    } catch (error) {
      if (error instanceof StalePlan) return;
      throw error;
    }
  },
};
