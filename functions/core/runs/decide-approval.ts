import { ApprovalRejected, Forbidden, InvalidRunTransition } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { loadRun } from './load-run.ts';
import { RunStatus } from './model.ts';
import type { Principal, Run } from './model.ts';

/**
 * An approver's decision on a run parked at AWAITING_APPROVAL: approve lets the workflow apply the
 * plan the approval is bound to; reject ends the run REJECTED. The requester never approves their own run.
 */
export async function decideApproval(
  deps: RunDeps,
  input: { runId: string; principal: Principal; decision: 'approve' | 'reject'; comment?: string },
): Promise<Run> {
  const { run } = await loadRun(deps, input.runId);
  const approval = run.approval;
  if (run.status !== RunStatus.AWAITING_APPROVAL || approval?.state !== 'PENDING' || !approval.taskToken) {
    throw new InvalidRunTransition(`run ${run.id} is ${run.status}; it is not waiting for approval`, { field: 'id' });
  }
  if (input.principal.id === run.requestedBy) throw new Forbidden('the requester cannot approve or reject their own run');
  if (!approval.approvers.includes(input.principal.id)) {
    throw new Forbidden(`${input.principal.id} is not an approver for ${run.environment} (approvers: ${approval.approvers.join(', ')})`);
  }
  const approved = input.decision === 'approve';
  const now = deps.clock().toISOString();
  const updated = await deps.runs.commit(run.id, {
    expectStatus: [RunStatus.AWAITING_APPROVAL],
    run: { approval: { ...approval, state: approved ? 'APPROVED' : 'REJECTED', decidedBy: input.principal.id, decidedAt: now, comment: input.comment, taskToken: undefined } },
    events: [
      {
        type: approved ? 'ApprovalGranted' : 'ApprovalRejected',
        level: approved ? 'INFO' : 'WARN',
        actor: input.principal.id,
        message: `${input.principal.id} ${approved ? 'approved' : 'rejected'} the plan${input.comment ? `: ${input.comment}` : ''}`,
        payload: { planDigest: approval.planDigest, comment: input.comment },
      },
    ],
  });
  if (approved) await deps.engine.completeWait(approval.taskToken, { approved: true, approvedBy: input.principal.id, planDigest: approval.planDigest });
  else await deps.engine.failWait(approval.taskToken, new ApprovalRejected('').name, `rejected by ${input.principal.id}${input.comment ? `: ${input.comment}` : ''}`);
  return updated;
}
