import { describeError } from '../errors.ts';
import type { RunDeps } from '../runs/deps.ts';
import { answerWait } from '../runs/decide-approval.ts';
import { loadRun } from '../runs/load-run.ts';
import { RunStatus } from '../runs/model.ts';
import { emailOf } from './deps.ts';
import { newNonce, signLink } from './links.ts';
import { approvalEmail } from './messages.ts';
import { updateApproval } from './update-approval.ts';

export interface SweepResult {
  reminded: string[];
  expired: string[];
}

/**
 * Every wait has a deadline: the sweeper (EventBridge Scheduler every minute in AWS, a timer in the
 * embedded stack) reminds the approvers who have not decided at half time, with fresh links, and
 * ends a wait that passed its deadline: the run goes EXPIRED and nothing is applied.
 */
export async function sweepApprovals(deps: RunDeps, now: Date): Promise<SweepResult> {
  const result: SweepResult = { reminded: [], expired: [] };
  for (const waiting of await deps.runs.listAwaitingApproval()) {
    const approval = waiting.approval;
    if (waiting.status !== RunStatus.AWAITING_APPROVAL || approval?.state !== 'PENDING') continue;
    const deadline = Date.parse(approval.deadline);
    const halfTime = Date.parse(approval.requestedAt) + (deadline - Date.parse(approval.requestedAt)) / 2;
    try {
      if (now.getTime() >= deadline) {
        const expired = await updateApproval(deps, waiting.id, (run, current) =>
          run.status !== RunStatus.AWAITING_APPROVAL || current.state !== 'PENDING'
            ? undefined
            : {
                approval: { ...current, state: 'EXPIRED', decidedAt: now.toISOString() },
                events: [
                  {
                    type: 'ApprovalExpired',
                    level: 'WARN',
                    message: `no quorum before the deadline ${current.deadline}; nothing will be applied`,
                    payload: { decisions: current.decisions },
                  },
                ],
              },
        );
        if (expired.approval?.state === 'EXPIRED') {
          await answerWait(deps, expired, 'EXPIRED');
          result.expired.push(waiting.id);
        }
      } else if (!approval.remindedAt && now.getTime() >= halfTime) {
        const { run, tasks } = await loadRun(deps, waiting.id);
        const undecided = approval.approvers.filter((approver) => !approval.decisions.some((decision) => decision.by === approver));
        for (const approver of undecided) {
          const token = await signLink(deps.linkSigner, { runId: run.id, approver, planDigest: approval.planDigest, expiresAt: deadline, nonce: newNonce() });
          await deps.notifier.send(
            approvalEmail({
              run,
              tasks,
              approver,
              to: emailOf(approver),
              url: `${deps.publicUrl}/approvals/${token}`,
              deadline: approval.deadline,
              reminder: true,
            }),
          );
        }
        await updateApproval(deps, run.id, (_, current) => ({
          approval: { ...current, remindedAt: now.toISOString() },
          events: [
            {
              type: 'ApprovalReminderSent',
              message: `reminded ${undecided.join(', ') || 'nobody (all decided)'}: the approval expires at ${current.deadline}`,
              payload: { approvers: undecided },
            },
          ],
        }));
        result.reminded.push(run.id);
      }
    } catch (error) {
      // One run's trouble must not stop the sweep for the others; it is retried at the next sweep.
      console.warn(`approval sweep of run ${waiting.id} failed: ${describeError(error).message}`);
    }
  }
  return result;
}
