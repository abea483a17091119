import { ApprovalExpired, ApprovalLinkRefused, MaestroError, RunNotFound, describeError } from '../errors.ts';
import type { RunDeps } from '../runs/deps.ts';
import { decideApproval } from '../runs/decide-approval.ts';
import type { Run, Task } from '../runs/model.ts';
import { verifyLink } from './links.ts';
import type { LinkPayload } from './links.ts';

export type LinkView =
  | { kind: 'review'; token: string; payload: LinkPayload; run: Run; tasks: Task[] }
  | { kind: 'decided'; payload: LinkPayload; run: Run; decision: 'approve' | 'reject' }
  | { kind: 'refused'; error: MaestroError };

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
  if (!check.valid) return refuse(deps, token, check.reason, check.payload);
  const found = await deps.runs.getWithTasks(check.payload.runId);
  if (!found) return { kind: 'refused', error: new RunNotFound('The run this link is for does not exist.') };
  return { kind: 'review', token, payload: check.payload, run: found.run, tasks: found.tasks };
}

/** The decision (POST): the link must be genuine, unexpired and unused; it is spent on first use. */
export async function decideByLink(deps: RunDeps, token: string, decision: 'approve' | 'reject', comment?: string): Promise<LinkView> {
  const now = deps.clock();
  const check = await verifyLink(deps.linkSigner, token, now);
  if (!check.valid) return refuse(deps, token, check.reason, check.payload);
  const { payload } = check;
  if (!(await deps.linkLedger.spend(payload.nonce, { runId: payload.runId, approver: payload.approver, at: now.toISOString() }))) {
    return refuse(deps, token, 'reused', payload);
  }
  try {
    const run = await decideApproval(deps, {
      runId: payload.runId,
      principal: { id: payload.approver, roles: ['approver'] },
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

async function refuse(deps: RunDeps, token: string, reason: keyof typeof REASONS, payload?: LinkPayload): Promise<LinkView> {
  // A forged link's payload cannot be trusted, but the run it names deserves to know someone tried.
  const claimed = payload ?? unverifiedPayload(token);
  if (claimed?.runId) await audit(deps, claimed.runId, claimed.approver, `link-${reason}`, REASONS[reason]);
  return { kind: 'refused', error: reason === 'expired' ? new ApprovalExpired(REASONS[reason]) : new ApprovalLinkRefused(REASONS[reason]) };
}

async function audit(deps: RunDeps, runId: string, approver: string | undefined, reason: string, message: string): Promise<void> {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(runId) || !(await deps.runs.get(runId))) return;
  try {
    await deps.runs.commit(runId, {
      events: [{ type: 'ApprovalLinkRefused', level: 'WARN', actor: approver ? `link:${approver}` : 'link', message: `approval link refused (${reason}): ${message}`, payload: { reason, approver } }],
    });
  } catch (error) {
    // Auditing must not turn a refusal into a 500; the refusal itself still stands.
    console.warn(`could not audit a refused approval link for run ${runId}: ${describeError(error).message}`);
  }
}

function unverifiedPayload(token: string): Partial<LinkPayload> | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Partial<LinkPayload>;
    return typeof parsed.runId === 'string' ? { runId: parsed.runId, approver: typeof parsed.approver === 'string' ? parsed.approver : undefined } : undefined;
  } catch {
    return undefined;
  }
}
