import * as z from 'zod';
import { sha256Hex } from '../core/canonical-json.ts';
import type { ActionContext } from '../core/actions/contract.ts';
import type { ObjectHead } from '../core/actions/ports.ts';
import { describeBody } from './render-diff.ts';

/** The params, metadata and read-backs the S3 object actions share. */

export const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');

export const objectKey = z
  .string()
  .min(1)
  .refine((key) => Buffer.byteLength(key) <= 1024, 'must be at most 1024 bytes');

export const versionIdParam = z.string().regex(/^[A-Za-z0-9._+=/-]{1,1024}$/, 'must be an S3 version id');

/** Metadata that marks an object version as written by a given task, so a replayed apply recognises it. */
export const IDEMPOTENCY_METADATA = 'maestro-idempotency-key';
export const RUN_ID_METADATA = 'maestro-run-id';

/** Objects larger than this are not downloaded to diff or hash; the plan names their size and ETag. */
export const MAX_DIFFED_OBJECT_BYTES = 1024 * 1024;

/** What a plan shows of an object and, when it was small enough to read, its sha256. */
export interface ObjectSnapshot {
  text: string;
  sha256: string | null;
}

/** Reads the version `head` describes (small ones whole) for a plan's diff. */
export async function snapshotOf(ctx: ActionContext, bucket: string, key: string, head: ObjectHead): Promise<ObjectSnapshot> {
  if (head.size <= MAX_DIFFED_OBJECT_BYTES) {
    const object = await ctx.objects.get(bucket, key, head.versionId);
    if (object) {
      const sha256 = sha256Hex(object.body);
      return { text: describeBody(object.body, sha256), sha256 };
    }
  }
  return { text: `<object of ${head.size} bytes, ETag ${head.etag}>\n`, sha256: null };
}

/** Whether this object version carries the task's mark. */
export const isOurs = (head: ObjectHead | undefined, ctx: ActionContext) => head?.metadata[IDEMPOTENCY_METADATA] === ctx.idempotencyKey;
