import { unsealTaskToken } from '../approvals/sealed-token.ts';
import { updateApproval } from '../approvals/update-approval.ts';
import { slackOutcome } from '../approvals/messages.ts';
import { ApprovalExpired, ApprovalVoid, Forbidden, InvalidRunTransition, AlreadyDecided, TaskTokenInvalid } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { identitiesOf } from '../identity/oidc-principal.ts';
import { RunStatus } from './model.ts';
import type { ApprovalDecision, Principal, Run } from './model.ts';

export interface DecisionInput {
  runId: string;
  principal: Principal;
  decision: 'approve' | 'reject';
  comment?: string;
  via: 'link' | 'api';
  /** The plan the decider saw (a link carries it): a decision on another plan is void. */
  planDigest?: string;
}

/**
 * One approver's decision on a run parked at AWAITING_APPROVAL. A rejection ends the wait at once
 * (REJECTED); approvals count until the environment's quorum of distinct approvers is reached, and
 * only then does the workflow go on to apply the plan the approval is bound to. The requester never
 * decides on their own run, nobody decides twice, and nobody decides after the deadline.
 */
export async function decideApproval(deps: RunDeps, input: DecisionInput): Promise<Run> {
  const now = deps.clock();
  await refuseAgentDecision(deps, input);
  let outcome: 'APPROVED' | 'REJECTED' | undefined;
  const updated = await updateApproval(deps, input.runId, (run, approval) => {
    if (run.status !== RunStatus.AWAITING_APPROVAL || approval.state !== 'PENDING') {
      throw new InvalidRunTransition(`run ${run.id} is ${run.status}; it is not waiting for approval`, { field: 'id' });
    }
    if (approval.planDigest !== run.planDigest || (input.planDigest && input.planDigest !== approval.planDigest)) {
      throw new ApprovalVoid('the plan changed since this approval was requested; the approval is void');
    }
    if (Date.parse(approval.deadline) <= now.getTime()) throw new ApprovalExpired(`the approval expired at ${approval.deadline}`);
    if (input.principal.id === run.requestedBy) throw new Forbidden('the requester cannot approve or reject their own run');
    if (run.onBehalfOf && input.principal.id === run.onBehalfOf) throw new Forbidden('an agent asked for this run on your behalf: someone else decides');
    // Approvers are listed by identity: an OIDC subject or email, an IAM role ARN, a development token's name.
    if (!identitiesOf(input.principal).some((identity) => approval.approvers.includes(identity))) {
      throw new Forbidden(`${input.principal.id} is not an approver for ${run.environment} (approvers: ${approval.approvers.join(', ')})`);
    }
    if (approval.decisions.some((decision) => decision.by === input.principal.id)) {
      throw new AlreadyDecided(`${input.principal.id} already decided on this run`);
    }
    const decision: ApprovalDecision = {
      by: input.principal.id,
      decision: input.decision,
      at: now.toISOString(),
      comment: input.comment,
      via: input.via,
      ...(input.principal.issuer ? { identityProvider: input.principal.issuer } : {}),
      ...(input.principal.email ? { email: input.principal.email } : {}),
    };
    const decisions = [...approval.decisions, decision];
    const approvals = decisions.filter((entry) => entry.decision === 'approve').length;
    outcome = input.decision === 'reject' ? 'REJECTED' : approvals >= approval.quorum ? 'APPROVED' : undefined;
    const said = `${input.principal.id} ${input.decision === 'approve' ? 'approved' : 'rejected'} the plan${input.comment ? `: ${input.comment}` : ''}`;
    return {
      approval: {
        ...approval,
        decisions,
        state: outcome ?? 'PENDING',
        ...(outcome ? { decidedBy: input.principal.id, decidedAt: now.toISOString(), comment: input.comment } : {}),
      },
      events: [
        {
          type: input.decision === 'approve' ? 'ApprovalGranted' : 'ApprovalRejected',
          level: input.decision === 'approve' ? 'INFO' : 'WARN',
          actor: input.principal.id,
          message: outcome === undefined ? `${said} (${approvals} of ${approval.quorum})` : said,
          payload: {
            planDigest: approval.planDigest,
            comment: input.comment,
            via: input.via,
            approvals,
            quorum: approval.quorum,
            // Who decided, and which identity provider vouched for them.
            decidedBy: { id: input.principal.id, email: input.principal.email, kind: input.principal.kind, identityProvider: input.principal.issuer },
          },
        },
      ],
    };
  });

  if (outcome) await answerWait(deps, updated, outcome);
  return updated;
}

/** Resumes the workflow with the decision, and tells the channel. */
export async function answerWait(deps: RunDeps, run: Run, outcome: 'APPROVED' | 'REJECTED' | 'EXPIRED'): Promise<void> {
  const approval = run.approval!;
  if (approval.taskTokenHash && approval.taskTokenSealed) {
    const token = await unsealTaskToken(deps.linkSigner, run.id, { hash: approval.taskTokenHash, sealed: approval.taskTokenSealed });
    try {
      if (outcome === 'APPROVED')
        await deps.engine.completeWait(token, {
          approved: true,
          approvedBy: approval.decisions.map((decision) => decision.by),
          planDigest: approval.planDigest,
        });
      else await deps.engine.failWait(token, outcome === 'REJECTED' ? 'ApprovalRejected' : 'ApprovalExpired', `the approval was ${outcome.toLowerCase()}`);
    } catch (error) {
      // The wait is being restarted (a crash): the resumed gate reads the recorded decision.
      if (!(error instanceof TaskTokenInvalid)) throw error;
    }
  }
  const detail =
    approval.decisions.map((decision) => `${decision.by} ${decision.decision}d${decision.comment ? `: ${decision.comment}` : ''}`).join('; ') ||
    `no decision before ${approval.deadline}`;
  await deps.notifier.send({ channel: 'slack', kind: 'approval-outcome', runId: run.id, payload: slackOutcome(run, outcome, detail) });
}

/**
 * An agent never approves or rejects: the refusal (403) is written to the run's trail, so a reviewer
 * sees the attempt. Called before any role check, so an agent with no approver role is recorded too.
 */
export async function refuseAgentDecision(deps: RunDeps, input: Pick<DecisionInput, 'runId' | 'principal' | 'decision' | 'via'>): Promise<void> {
  if (input.principal.kind !== 'agent') return;
  const message = `${input.principal.id} is an agent (acting for ${input.principal.onBehalfOf ?? 'nobody'}); agents cannot ${input.decision} runs: a human decides`;
  if (await deps.runs.get(input.runId)) {
    await deps.runs.commit(input.runId, {
      events: [
        {
          type: 'AgentDecisionRefused',
          level: 'WARN',
          actor: input.principal.id,
          message,
          payload: { decision: input.decision, via: input.via, onBehalfOf: input.principal.onBehalfOf },
        },
      ],
    });
  }
  throw new Forbidden(message, { field: 'Authorization' });
}
