import * as z from 'zod';
import { sha256Hex } from '../core/canonical-json.ts';
import { ActionFailed, StalePlan, TargetQuiesced, VerificationFailed } from '../core/errors.ts';
import type { TaskPlan } from '../core/runs/model.ts';
import type { Action } from '../core/actions/contract.ts';
import { s3ObjectUri } from '../core/actions/resources.ts';
import { describeBody, renderDiff } from './render-diff.ts';
import { IDEMPOTENCY_METADATA, RUN_ID_METADATA, isOurs } from './s3-params.ts';

/** What a replayed apply answers: the version this task wrote, as the first apply answered it. */
const replayed = (current: { versionId?: string; etag: string }) => ({ versionId: current.versionId ?? null, etag: current.etag, replayed: true });

/** Plans are stored with their task in one DynamoDB item; the body travels in params and plan. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Objects larger than this are not downloaded to diff; the plan names their size and ETag. */
const MAX_DIFFED_OBJECT_BYTES = 1024 * 1024;

const S3PutObjectParams = z.strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)'),
  key: z
    .string()
    .min(1)
    .refine((key) => Buffer.byteLength(key) <= 1024, 'must be at most 1024 bytes'),
  body: z.string().refine((body) => Buffer.byteLength(body) <= MAX_BODY_BYTES, `must be at most ${MAX_BODY_BYTES} bytes`),
  contentType: z.string().min(1).max(255).optional(),
});
type S3PutObjectParams = z.infer<typeof S3PutObjectParams>;

interface PutPlanData extends Record<string, unknown> {
  bucket: string;
  key: string;
  body: string;
  contentType: string;
  bodySha256: string;
  previousVersionId: string | null;
}

const dataOf = (plan: TaskPlan) => plan.data as PutPlanData;
const etagPrecondition = (plan: TaskPlan) => plan.preconditions.etag as string | null;

/** Writes one object; rollback makes the previous version current again (S3 versioning). */
export const s3PutObject: Action<S3PutObjectParams> = {
  name: 's3.put-object',
  version: '1.0.0',
  description: 'Writes an object to an S3 bucket; plans show the text diff; rollback restores the previous version.',
  safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: S3PutObjectParams,
  resources: (params) => [{ uri: s3ObjectUri(params.bucket, params.key), access: 'write' }],
  examples: [
    {
      description: 'Write a text object (versioning on, so rollback restores the previous version)',
      params: { bucket: 'maestro-demo', key: 'notes/hello.txt', body: 'hello\n' },
    },
    {
      description: 'Write JSON with its content type',
      params: { bucket: 'maestro-demo', key: 'config/flags.json', body: '{"beta":true}\n', contentType: 'application/json' },
    },
  ],

  async plan(params, ctx) {
    const resource = s3ObjectUri(params.bucket, params.key);
    const body = Buffer.from(params.body);
    const bodySha256 = sha256Hex(body);
    const head = await ctx.objects.head(params.bucket, params.key);
    if (head && !head.versionId) {
      throw new ActionFailed(`bucket ${params.bucket} must have versioning enabled so that a change to ${params.key} can be rolled back`, {
        field: 'bucket',
      });
    }
    let before: string | undefined;
    let unchanged = false;
    if (head && head.size <= MAX_DIFFED_OBJECT_BYTES) {
      const current = await ctx.objects.get(params.bucket, params.key);
      if (current) {
        const currentSha = sha256Hex(current.body);
        unchanged = currentSha === bodySha256;
        before = describeBody(current.body, currentSha);
      }
    } else if (head) {
      before = `<object of ${head.size} bytes, ETag ${head.etag}>\n`;
    }
    const data: PutPlanData = {
      bucket: params.bucket,
      key: params.key,
      body: params.body,
      contentType: params.contentType ?? 'text/plain; charset=utf-8',
      bodySha256,
      previousVersionId: head?.versionId ?? null,
    };
    return {
      summary: !head
        ? `create ${resource} (${body.length} bytes)`
        : unchanged
          ? `no change to ${resource}`
          : `update ${resource} (${head.size} → ${body.length} bytes)`,
      change: !head ? 'create' : unchanged ? 'none' : 'update',
      resource,
      diff: unchanged ? '' : renderDiff(resource, before, describeBody(body, bodySha256)),
      preconditions: { etag: head?.etag ?? null, versionId: head?.versionId ?? null },
      data,
    };
  },

  async apply(plan, ctx) {
    const data = dataOf(plan);
    if (plan.change === 'none') {
      const current = await ctx.objects.head(data.bucket, data.key);
      if (current && isOurs(current, ctx)) return replayed(current);
      if (current?.etag !== etagPrecondition(plan)) throw new StalePlan(`s3://${data.bucket}/${data.key} changed since it was planned`);
      return { versionId: current?.versionId ?? null, etag: current?.etag ?? null, unchanged: true };
    }
    // The write itself is conditional on what the plan saw (If-Match its ETag, or If-None-Match when
    // there was none), so it needs no read first: only a refusal asks whether the object is this
    // task's own earlier write (a replay after the write landed and its record did not).
    try {
      await ctx.writeGuard?.assertWritable({ kind: 'object', bucket: data.bucket, key: data.key });
      const precondition = etagPrecondition(plan);
      const written = await ctx.objects.put({
        bucket: data.bucket,
        key: data.key,
        body: Buffer.from(data.body),
        contentType: data.contentType,
        metadata: { [IDEMPOTENCY_METADATA]: ctx.idempotencyKey, [RUN_ID_METADATA]: ctx.runId },
        ...(precondition === null ? { ifNoneMatch: '*' as const } : { ifMatch: precondition }),
      });
      return { versionId: written.versionId ?? null, etag: written.etag };
    } catch (error) {
      if (!(error instanceof StalePlan || error instanceof TargetQuiesced)) throw error;
      const current = await ctx.objects.head(data.bucket, data.key);
      if (current && isOurs(current, ctx)) return replayed(current);
      throw error;
    }
  },

  async verify(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const current = await ctx.objects.get(data.bucket, data.key);
    if (!current) throw new VerificationFailed(`s3://${data.bucket}/${data.key} is missing after apply`);
    const actual = sha256Hex(current.body);
    if (actual !== data.bodySha256) {
      throw new VerificationFailed(`s3://${data.bucket}/${data.key} reads back with sha256 ${actual}, expected ${data.bodySha256}`);
    }
  },

  async rollback(plan, _outcome, ctx) {
    if (plan.change === 'none') return;
    const data = dataOf(plan);
    const current = await ctx.objects.head(data.bucket, data.key);
    // Not ours: apply never wrote (it failed or crashed first), or someone wrote after us. Either way
    // there is nothing of ours to undo, and we never write over someone else's change.
    if (!isOurs(current, ctx)) return;
    if (data.previousVersionId) {
      await ctx.objects.restoreVersion(data.bucket, data.key, data.previousVersionId);
    } else {
      await ctx.objects.delete(data.bucket, data.key);
    }
  },
};
