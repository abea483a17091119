import { createTwoFilesPatch } from 'diff';
import * as z from 'zod';
import { ActionFailed, StalePlan, VerificationFailed, s3ObjectUri, sha256Hex } from '../../../functions/core/actions/pack-api.ts';
import type { Action, TaskPlan } from '../../../functions/core/actions/pack-api.ts';

/** What the team's services read from S3: a feature-flag document, validated before it is ever written. */
export const FlagDocument = z.strictObject({
  service: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'must be a service name (lowercase letters, digits, hyphens)'),
  owner: z.email('must be the owning team e-mail address'),
  flags: z
    .record(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'flag names are lowercase letters, digits and hyphens'), z.boolean())
    .refine((flags) => Object.keys(flags).length <= 200, 'at most 200 flags'),
});
export type FlagDocument = z.infer<typeof FlagDocument>;

const Params = z.strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  key: z
    .string()
    .regex(/^[A-Za-z0-9!_.*'()/-]{1,900}\.json$/, 'must be an object key ending in .json')
    .refine((key) => !key.split('/').includes('..'), 'must not contain ..'),
  document: FlagDocument,
});
type Params = z.infer<typeof Params>;

/** The body written: the document's keys sorted, two-space indented, one trailing newline (so diffs are line by line). */
export function renderDocument(document: FlagDocument): string {
  const sorted = {
    service: document.service,
    owner: document.owner,
    flags: Object.fromEntries(Object.entries(document.flags).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/** Marks the object version this task wrote, so a replayed apply and the rollback recognise it. */
const WRITTEN_BY = 'example-idempotency-key';

interface PlanData extends Record<string, unknown> {
  bucket: string;
  key: string;
  body: string;
  bodySha256: string;
  previousVersionId: string | null;
}
const dataOf = (plan: TaskPlan) => plan.data as PlanData;

/** Writes one flag document as JSON; the plan shows the JSON diff; rollback restores the previous version. */
export const s3PutJson: Action<Params> = {
  name: 'example.s3-put-json',
  version: '1.0.0',
  description: 'Writes a feature-flag JSON document to S3 after validating it against the flag schema; rollback restores the previous version.',
  safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: Params,
  resources: (params) => [{ uri: s3ObjectUri(params.bucket, params.key), access: 'write' }],
  examples: [
    {
      description: "Turn on the checkout service's new-cart flag",
      params: {
        bucket: 'maestro-demo',
        key: 'flags/checkout.json',
        document: { service: 'checkout', owner: 'payments@example.com', flags: { 'new-cart': true } },
      },
    },
  ],

  async plan(params, ctx) {
    const resource = s3ObjectUri(params.bucket, params.key);
    const body = renderDocument(params.document);
    const head = await ctx.objects.head(params.bucket, params.key);
    if (head && !head.versionId) throw new ActionFailed(`bucket ${params.bucket} must be versioned so that the change can be rolled back`, { field: 'bucket' });
    const current = head ? await ctx.objects.get(params.bucket, params.key) : undefined;
    const before = current?.body.toString('utf8');
    const unchanged = before === body;
    const data: PlanData = { bucket: params.bucket, key: params.key, body, bodySha256: sha256Hex(body), previousVersionId: head?.versionId ?? null };
    return {
      summary: !head ? `create ${resource}` : unchanged ? `no change to ${resource}` : `update ${resource}`,
      change: !head ? 'create' : unchanged ? 'none' : 'update',
      resource,
      diff: unchanged ? '' : createTwoFilesPatch(head ? `a/${resource}` : '/dev/null', `b/${resource}`, before ?? '', body),
      preconditions: { etag: head?.etag ?? null },
      data,
    };
  },

  async apply(plan, ctx) {
    const data = dataOf(plan);
    const current = await ctx.objects.head(data.bucket, data.key);
    if (current?.metadata[WRITTEN_BY] === ctx.idempotencyKey) return { versionId: current.versionId ?? null, replayed: true };
    const etag = plan.preconditions.etag as string | null;
    if (plan.change === 'none') {
      if (current?.etag !== etag) throw new StalePlan(`s3://${data.bucket}/${data.key} changed since it was planned`);
      return { versionId: current?.versionId ?? null, unchanged: true };
    }
    await ctx.writeGuard?.assertWritable({ kind: 'object', bucket: data.bucket, key: data.key });
    const written = await ctx.objects.put({
      bucket: data.bucket,
      key: data.key,
      body: Buffer.from(data.body),
      contentType: 'application/json',
      metadata: { [WRITTEN_BY]: ctx.idempotencyKey },
      ...(etag === null ? { ifNoneMatch: '*' as const } : { ifMatch: etag }),
    });
    return { versionId: written.versionId ?? null };
  },

  async verify(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const current = await ctx.objects.get(data.bucket, data.key);
    if (!current) throw new VerificationFailed(`s3://${data.bucket}/${data.key} is missing after apply`);
    if (sha256Hex(current.body) !== data.bodySha256) throw new VerificationFailed(`s3://${data.bucket}/${data.key} does not read back as written`);
    // What the services will parse: the document must still be a valid flag document.
    let parsed: unknown;
    try {
      parsed = JSON.parse(current.body.toString('utf8'));
    } catch {
      throw new VerificationFailed(`s3://${data.bucket}/${data.key} is not JSON`);
    }
    if (!FlagDocument.safeParse(parsed).success) throw new VerificationFailed(`s3://${data.bucket}/${data.key} is not a valid flag document`);
  },

  async rollback(plan, _outcome, ctx) {
    if (plan.change === 'none') return;
    const data = dataOf(plan);
    const current = await ctx.objects.head(data.bucket, data.key);
    // Only our own write is undone: never someone else's change made after it.
    if (current?.metadata[WRITTEN_BY] !== ctx.idempotencyKey) return;
    if (data.previousVersionId) await ctx.objects.restoreVersion(data.bucket, data.key, data.previousVersionId);
    else await ctx.objects.delete(data.bucket, data.key);
  },
};
