import * as z from 'zod';
import { ActionFailed } from '../core/errors.ts';
import type { Action, ActionContext } from '../core/actions/contract.ts';

const Params = z.strictObject({ jobId: z.string().min(1).max(64) });
type Params = z.infer<typeof Params>;

function gate(ctx: ActionContext) {
  if (!ctx.restoreGate) throw new ActionFailed('this deployment has no DR restore gate');
  return ctx.restoreGate;
}

/**
 * The approval of a DR restore's traffic flip, as a task of a Maestro run (see core/dr/restore-approval.ts):
 * planning shows which copy goes live; applying lets the restore workflow flip; a run that ends any
 * other way (rejected, expired, denied, cancelled) tells the restore not to.
 */
export const drApproveRestore: Action<Params> = {
  name: 'dr.approve-restore',
  version: '1.0.0',
  description: 'Lets a waiting DR restore flip its target’s traffic pointer to the restored copy.',
  safety: { category: 'DEPLOY', requiresApproval: true, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: Params,
  // The restore job, through the DR restore gate (never the state table itself).
  resources: (params) => [{ uri: `dr-restore://${params.jobId}`, access: 'write' }],
  examples: [{ description: 'Let restore job dr-1234 flip its target to the restored copy', params: { jobId: 'dr-1234' } }],
  // It reads and resumes a restore held in Maestro's own state table: control plane, not an executor.
  runsInControlPlane: true,

  async plan(params, ctx) {
    const restore = await gate(ctx).describe(params.jobId);
    return {
      summary: `flip ${restore.target} from copy ${restore.from} to ${restore.to ?? '(the restored copy)'} (snapshot ${restore.snapshotId ?? '?'})`,
      change: 'update',
      resource: `dr://${restore.target}`,
      diff: `--- a/dr://${restore.target}/pointer\n+++ b/dr://${restore.target}/pointer\n@@ -1 +1 @@\n-live: ${restore.from}\n+live: ${restore.to ?? 'restored copy'}\n`,
      preconditions: {},
      data: { jobId: params.jobId },
    };
  },

  async apply(plan, ctx) {
    await gate(ctx).resume(String(plan.data.jobId));
    return { resumed: true };
  },

  async verify() {
    // The restore workflow validates the copy and flips the pointer itself; nothing of ours to read back.
  },

  async rollback() {
    // The flip happens in the restore workflow after this run; its own rollback (POST /dr/restore/{id}/rollback) flips back.
  },

  async onRunEnded(status, _plan, params, ctx) {
    if (status !== 'SUCCEEDED') await gate(ctx).abandon(params.jobId, status);
  },
};
