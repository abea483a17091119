import { StalePlan } from '../errors.ts';
import { needsApproval, readControl } from '../safety/gates.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { RunStatus } from './model.ts';

/**
 * The approval gate. The workflow waits on `taskToken`. When every task may apply unattended at the
 * run's autonomy, the gate approves by policy and answers its own token; otherwise the run parks at
 * AWAITING_APPROVAL until an approver decides (decide-approval.ts) or the wait times out (EXPIRED).
 * A replay after a restart brings a new token: it replaces the stored one, and nobody is asked twice.
 */
export async function requestApproval(deps: RunDeps, input: { runId: string; taskToken: string; planDigest: string }): Promise<void> {
  const { run, tasks } = await loadRun(deps, input.runId);
  assertNotCancelled(run);
  if (run.planDigest !== input.planDigest) {
    await deps.engine.failWait(input.taskToken, 'StalePlan', 'the plan changed after it was offered for approval');
    throw new StalePlan(`run ${run.id} was re-planned; the approval request is for an older plan`);
  }
  if (run.approval?.state === 'APPROVED' && run.approval.planDigest === run.planDigest) {
    await deps.engine.completeWait(input.taskToken, { approved: true, approvedBy: run.approval.decidedBy, planDigest: run.planDigest });
    return;
  }

  const control = await readControl(deps);
  const steps = tasks.map((task) => ({ action: deps.catalog.get(task.action, task.actionVersion), plan: task.plan }));
  if (!needsApproval(deps, run, steps, control)) {
    if (run.status === RunStatus.PLANNED) {
      await deps.runs.commit(run.id, {
        expectStatus: [RunStatus.PLANNED],
        events: [{ type: 'ApprovalNotRequired', message: `approved by policy: every task may apply unattended at autonomy ${run.autonomy}`, actor: 'policy', payload: { planDigest: run.planDigest } }],
      });
    }
    await deps.engine.completeWait(input.taskToken, { approved: true, approvedBy: 'policy', planDigest: run.planDigest });
    return;
  }

  const now = deps.clock().toISOString();
  const approvers = deps.guardrails.environments[run.environment]?.approvers ?? [];
  const firstRequest = run.status !== RunStatus.AWAITING_APPROVAL;
  await deps.runs.commit(run.id, {
    expectStatus: [RunStatus.PLANNED, RunStatus.AWAITING_APPROVAL],
    run: {
      status: RunStatus.AWAITING_APPROVAL,
      approval: { state: 'PENDING', planDigest: input.planDigest, requestedAt: run.approval?.requestedAt ?? now, approvers, taskToken: input.taskToken },
    },
    events: firstRequest
      ? [{ type: 'ApprovalRequested', level: 'WARN', message: `waiting for approval by one of: ${approvers.join(', ') || '(no approvers configured)'}`, payload: { planDigest: input.planDigest, approvers, autonomy: run.autonomy } }]
      : [{ type: 'ApprovalWaitResumed', message: 'still waiting for approval (the workflow restarted the wait)' }],
  });
}
