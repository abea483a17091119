import { ApprovalExpired, ApprovalLinkRefused, InvalidRunTransition, MaestroError, RunNotFound, ValidationFailed, describeError } from '../errors.ts';
import type { RunDeps } from '../runs/deps.ts';
import { decideApproval } from '../runs/decide-approval.ts';
import { RunStatus, TERMINAL_STATUSES, isFinished } from '../runs/model.ts';
import type { Run, Task } from '../runs/model.ts';
import { verifyLink } from './links.ts';
import type { LinkPayload } from './links.ts';

export type LinkView =
  | { kind: 'review'; token: string; payload: LinkPayload; run: Run; tasks: Task[] }
  | { kind: 'decided'; payload: LinkPayload; run: Run; decision: 'approve' | 'reject' }
  | {
      kind: 'refused';
      error: MaestroError;
      /** Why a link was refused (`forged`, `reused`...), when the link itself was the problem. */
      reason?: string;
      /** The link's MAC did not verify (or it was not a link at all): nothing was written anywhere. */
      unverified?: true;
    };

const REASONS = {
  malformed: 'This link is not a Maestro approval link.',
  forged: 'This link was not issued by Maestro (its signature does not match).',
  expired: 'This link has expired: the approval deadline has passed.',
  reused: 'This link was already used. Each approval link works once.',
} as const;

/**
 * What a link's page shows (GET): the plan and a form to decide. A GET never decides anything, so a
 * link scanner that prefetches it changes nothing.
 */
export async function reviewByLink(deps: RunDeps, token: string): Promise<LinkView> {
  const check = await verifyLink(deps.linkSigner, token, deps.clock());
  if (!check.valid) return refuse(deps, check.reason, check.payload);
  const found = await deps.runs.getWithTasks(check.payload.runId);
  if (!found) return { kind: 'refused', error: new RunNotFound('The run this link is for does not exist.') };
  return { kind: 'review', token, payload: check.payload, run: found.run, tasks: found.tasks };
}

/** The decision (POST): the link must be genuine, unexpired and unused; it is spent on first use. */
export async function decideByLink(deps: RunDeps, token: string, decision: 'approve' | 'reject', comment?: string): Promise<LinkView> {
  const now = deps.clock();
  const check = await verifyLink(deps.linkSigner, token, now);
  if (!check.valid) return refuse(deps, check.reason, check.payload);
  const { payload } = check;
  if (!(await deps.linkLedger.spend(payload.nonce, { runId: payload.runId, approver: payload.approver, at: now.toISOString() }))) {
    return refuse(deps, 'reused', payload);
  }
  try {
    const run = await decideApproval(deps, {
      runId: payload.runId,
      principal: { id: payload.approver, roles: ['approver'], issuer: 'approval-link' },
      decision,
      comment,
      via: 'link',
      planDigest: payload.planDigest,
    });
    return { kind: 'decided', payload, run, decision };
  } catch (error) {
    if (!(error instanceof MaestroError) || error.status >= 500) throw error;
    await audit(deps, payload.runId, payload.approver, error.code, error.message);
    return { kind: 'refused', error };
  }
}

async function refuse(deps: RunDeps, reason: keyof typeof REASONS, payload?: LinkPayload): Promise<LinkView> {
  // Only a link whose MAC verified names its run: a malformed or forged one writes nothing at all
  // (the API handler logs it, rate-limited per source), so unauthenticated requests cost no event.
  if (payload) await audit(deps, payload.runId, payload.approver, `link-${reason}`, REASONS[reason]);
  const message = REASONS[reason];
  const error =
    reason === 'expired'
      ? new ApprovalExpired(message)
      : reason === 'malformed'
        ? new ValidationFailed(message, { field: 'token' })
        : new ApprovalLinkRefused(message);
  return { kind: 'refused', error, reason, ...(payload ? {} : { unverified: true as const }) };
}

/** Statuses a refused link may still be recorded on: a finished run's trail is closed. */
const OPEN_STATUSES = Object.values(RunStatus).filter((status) => !TERMINAL_STATUSES.has(status));

async function audit(deps: RunDeps, runId: string, approver: string, reason: string, message: string): Promise<void> {
  const run = await deps.runs.get(runId);
  if (!run || isFinished(run)) return;
  try {
    await deps.runs.commit(runId, {
      expectStatus: OPEN_STATUSES,
      events: [
        {
          type: 'ApprovalLinkRefused',
          level: 'WARN',
          actor: `link:${approver}`,
          message: `approval link refused (${reason}): ${message}`,
          payload: { reason, approver },
        },
      ],
    });
  } catch (error) {
    // The run finished meanwhile (nothing is appended to a finished run), or auditing failed: either
    // way the refusal itself stands, and must not turn into a 500.
    if (!(error instanceof InvalidRunTransition)) console.warn(`could not audit a refused approval link for run ${runId}: ${describeError(error).message}`);
  }
}
