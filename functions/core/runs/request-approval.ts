import { emailOf } from '../approvals/deps.ts';
import { newNonce, signLink } from '../approvals/links.ts';
import { approvalEmail, slackApprovalRequest } from '../approvals/messages.ts';
import { sealTaskToken } from '../approvals/sealed-token.ts';
import { updateApproval } from '../approvals/update-approval.ts';
import { KillSwitchEngaged, StalePlan, describeError } from '../errors.ts';
import { changesSomething, needsApproval, readControl } from '../safety/gates.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { RunStatus } from './model.ts';
import type { Run, Task } from './model.ts';
import { own } from '../own.ts';

/**
 * The approval gate. The workflow waits on `taskToken`. When every task may apply unattended at the
 * run's autonomy, the gate approves by policy and answers its own token. Otherwise the run parks at
 * AWAITING_APPROVAL with an approval bound to the plan digest (quorum and deadline from the
 * environment), and each approver is sent a signed, single-use link; Slack gets the summary.
 * A replay after a restart brings a new token: it replaces the sealed one, the links already sent
 * keep working, and nobody is notified twice.
 */
export async function requestApproval(
  deps: RunDeps,
  input: { runId: string; taskToken: string; planDigest: string },
): Promise<{ statusBefore: RunStatus; statusAfter: RunStatus }> {
  // The run and the control record, read side by side (neither read depends on the other).
  const [{ run, tasks }, control] = await Promise.all([loadRun(deps, input.runId), readControl(deps)]);
  const unchanged = { statusBefore: run.status, statusAfter: run.status };
  assertNotCancelled(run);
  if (run.planDigest !== input.planDigest) {
    await deps.engine.failWait(input.taskToken, 'StalePlan', 'the plan changed after it was offered for approval');
    throw new StalePlan(`run ${run.id} was re-planned; the approval request is for an older plan`);
  }
  // Decided while the workflow was down (a restart): answer the new wait with that decision.
  if (run.approval && run.approval.planDigest === run.planDigest && run.approval.state !== 'PENDING') {
    if (run.approval.state === 'APPROVED') await deps.engine.completeWait(input.taskToken, { approved: true, planDigest: run.planDigest });
    else
      await deps.engine.failWait(
        input.taskToken,
        run.approval.state === 'REJECTED' ? 'ApprovalRejected' : 'ApprovalExpired',
        `the approval was ${run.approval.state.toLowerCase()}`,
      );
    return unchanged;
  }

  const steps = tasks.map((task) => ({ action: deps.catalog.get(task.action, task.actionVersion), plan: task.plan }));
  // Nothing applies while the kill switch is engaged: a run that would change something ends now,
  // rather than parking for an approval that could not let it apply (a watcher would wait forever).
  if (control.killSwitch.engaged && run.status === RunStatus.PLANNED && steps.some(({ plan }) => changesSomething(plan))) {
    const message = `the kill switch is engaged (${control.killSwitch.reason ?? 'no reason given'}); nothing applies`;
    await deps.engine.failWait(input.taskToken, 'KillSwitchEngaged', message);
    throw new KillSwitchEngaged(message);
  }
  if (!needsApproval(deps, run, steps, control)) {
    // Recorded already when Plan approved it by policy (the workflow then skips this wait; a replay may not).
    if (run.status === RunStatus.PLANNED && run.approvedByPolicy !== run.planDigest) {
      await deps.runs.commit(run.id, {
        head: run,
        expectStatus: [RunStatus.PLANNED],
        events: [
          {
            type: 'ApprovalNotRequired',
            message: `approved by policy: every task may apply unattended at autonomy ${run.autonomy}`,
            actor: 'policy',
            payload: { planDigest: run.planDigest },
          },
        ],
      });
    }
    await deps.engine.completeWait(input.taskToken, { approved: true, approvedBy: 'policy', planDigest: run.planDigest });
    return unchanged;
  }

  const token = await sealTaskToken(deps.linkSigner, run.id, input.taskToken);
  let parked: Run;
  if (run.status === RunStatus.AWAITING_APPROVAL && run.approval) {
    parked = await updateApproval(deps, run.id, (_, current) => ({
      approval: { ...current, taskTokenHash: token.hash, taskTokenSealed: token.sealed },
      events: [{ type: 'ApprovalWaitResumed', message: 'still waiting for approval (the workflow restarted its wait; the links sent still work)' }],
    }));
  } else {
    const environment = own(deps.guardrails.environments, run.environment);
    const now = deps.clock();
    // The requester never counts towards the quorum.
    const approvers = (environment?.approvers ?? []).filter((approver) => approver !== run.requestedBy);
    const deadline = new Date(now.getTime() + (environment?.approvalDeadlineSeconds ?? 86_400) * 1000).toISOString();
    const quorum = environment?.quorum ?? 1;
    parked = await deps.runs.commit(run.id, {
      expectStatus: [RunStatus.PLANNED],
      run: {
        status: RunStatus.AWAITING_APPROVAL,
        approval: {
          state: 'PENDING',
          planDigest: input.planDigest,
          requestedAt: now.toISOString(),
          deadline,
          approvers,
          quorum,
          decisions: [],
          taskTokenHash: token.hash,
          taskTokenSealed: token.sealed,
        },
      },
      events: [
        {
          type: 'ApprovalRequested',
          level: 'WARN',
          message: `waiting for ${quorum} approval(s) from ${approvers.join(', ') || '(nobody: no approver other than the requester is configured)'} until ${deadline}`,
          payload: { planDigest: input.planDigest, approvers, quorum, deadline, autonomy: run.autonomy },
        },
      ],
    });
  }
  if (!parked.approval?.notifiedAt) await notifyApprovers(deps, parked, tasks);
  return { statusBefore: run.status, statusAfter: parked.status };
}

/** Sends each approver their own link by email and the channel a summary, then records that it did. */
async function notifyApprovers(deps: RunDeps, run: Run, tasks: readonly Task[]): Promise<void> {
  const approval = run.approval!;
  const sent: string[] = [];
  try {
    await deps.notifier.send({
      channel: 'slack',
      kind: 'approval-request',
      runId: run.id,
      payload: slackApprovalRequest(run, tasks, approval.deadline, approval.quorum, approval.approvers),
    });
    for (const approver of approval.approvers) {
      const token = await signLink(deps.linkSigner, {
        runId: run.id,
        approver,
        planDigest: approval.planDigest,
        expiresAt: Date.parse(approval.deadline),
        nonce: newNonce(),
      });
      await deps.notifier.send(
        approvalEmail({
          run,
          tasks,
          approver,
          to: emailOf(approver),
          url: `${deps.publicUrl}/approvals/${token}`,
          deadline: approval.deadline,
          reminder: false,
        }),
      );
      sent.push(approver);
    }
  } catch (error) {
    await deps.runs.commit(run.id, {
      events: [
        {
          type: 'ApprovalNotificationFailed',
          level: 'ERROR',
          message: `notifying approvers failed: ${describeError(error).message}`,
          payload: { sentTo: sent },
        },
      ],
    });
    throw error;
  }
  await updateApproval(deps, run.id, (_, current) => ({
    approval: { ...current, notifiedAt: deps.clock().toISOString() },
    events: [
      { type: 'ApprovalNotificationsSent', message: `approval links sent to ${sent.join(', ')}; summary posted to Slack`, payload: { approvers: sent } },
    ],
  }));
}
