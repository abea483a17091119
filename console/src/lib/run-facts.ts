/** What the console derives from the API's answers: pure functions, no DOM, unit-tested. */

export interface ApprovalDecisionView {
  by: string;
  decision: 'approve' | 'reject';
  at: string;
  comment?: string;
  via?: string;
  email?: string;
  identityProvider?: string;
}

export interface ApprovalView {
  state: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
  approvers: string[];
  quorum: number;
  deadline: string;
  decisions: ApprovalDecisionView[];
}

export interface RunSummaryView {
  id: string;
  status: string;
  goal: string;
  mode: string;
  environment: string;
  requestedBy: string;
  createdAt: string;
  finishedAt?: string;
  correlationId?: string;
  approval?: ApprovalView;
  rollbackOf?: string;
  rolledBackBy?: string;
}

/** Who is signed in, as the ID token says (for display and for hiding what the API would refuse). */
export interface Me {
  sub: string;
  email?: string;
}

const FINISHED: ReadonlySet<string> = new Set(['PLANNED', 'SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'REJECTED', 'EXPIRED', 'CANCELLED', 'DENIED']);

export const isFinished = (run: Pick<RunSummaryView, 'status' | 'finishedAt'>): boolean => FINISHED.has(run.status) || run.finishedAt !== undefined;

/** "needs 1 approval from approvers: a, b", or where the approval stands. */
export function approvalSummary(approval: ApprovalView | undefined): string {
  if (!approval) return 'no approval needed';
  const approvals = approval.decisions.filter((decision) => decision.decision === 'approve').length;
  const who = approval.approvers.length > 0 ? approval.approvers.join(', ') : 'nobody configured';
  if (approval.state === 'PENDING') {
    const missing = Math.max(approval.quorum - approvals, 0);
    return `needs ${missing} approval${missing === 1 ? '' : 's'} from approvers: ${who}`;
  }
  if (approval.state === 'APPROVED') return `approved (${approvals} of ${approval.quorum})`;
  if (approval.state === 'REJECTED') return 'rejected';
  return 'expired without a decision';
}

/**
 * Whether to offer approve/reject: the run waits for a decision, the signed-in person is one of its
 * approvers (by subject or email), did not ask for the run, and has not decided yet. The API checks
 * all of this again; hiding the buttons only spares a refusal.
 */
export function canDecide(run: RunSummaryView, me: Me | undefined): boolean {
  if (!me || run.status !== 'AWAITING_APPROVAL' || run.approval?.state !== 'PENDING') return false;
  const ids = [me.sub, me.email].filter((id): id is string => typeof id === 'string' && id !== '');
  if (ids.includes(run.requestedBy)) return false;
  if (!run.approval.approvers.some((approver) => ids.includes(approver))) return false;
  return !run.approval.decisions.some((decision) => ids.includes(decision.by) || (decision.email !== undefined && ids.includes(decision.email)));
}

export const canCancel = (run: RunSummaryView): boolean => !isFinished(run) && run.status !== 'ROLLING_BACK';

/** A finished APPLY run that changed something can be undone by a rollback run, once. */
export const canRollBack = (run: RunSummaryView): boolean =>
  run.mode === 'APPLY' && ['SUCCEEDED', 'FAILED'].includes(run.status) && run.rolledBackBy === undefined;

export interface RunFilters {
  status?: string;
  environment?: string;
  requester?: string;
  text?: string;
}

/** The runs that match every filter given (case-insensitive substring for requester and text). */
export function filterRuns<T extends RunSummaryView>(runs: readonly T[], filters: RunFilters): T[] {
  const lower = (value: string | undefined) => (value ?? '').trim().toLowerCase();
  return runs.filter(
    (run) =>
      (!filters.status || run.status === filters.status) &&
      (!filters.environment || run.environment === filters.environment) &&
      (!lower(filters.requester) || run.requestedBy.toLowerCase().includes(lower(filters.requester))) &&
      (!lower(filters.text) || `${run.goal} ${run.id}`.toLowerCase().includes(lower(filters.text))),
  );
}

/** An API error as the console shows it: always the code and the correlation id, never swallowed. */
export interface ApiErrorView {
  status: number;
  code: string;
  message: string;
  field?: string;
  correlationId?: string;
}

/** Reads an error answer (`{"error": {code, message, field, correlationId}}`), or describes what came instead. */
export function apiErrorOf(status: number, body: unknown, headerCorrelationId: string | null): ApiErrorView {
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    status,
    code: text(error?.code) ?? `HTTP${status}`,
    message: text(error?.message) ?? 'the API answered without an error body',
    field: text(error?.field),
    correlationId: text(error?.correlationId) ?? headerCorrelationId ?? undefined,
  };
}

export function errorLine(error: ApiErrorView): string {
  const field = error.field ? ` (field ${error.field})` : '';
  const correlation = error.correlationId ? ` · correlation id ${error.correlationId}` : '';
  return `${error.code}: ${error.message}${field} · HTTP ${error.status}${correlation}`;
}

/** A restore's steps in order, and where a job stands on them. */
export const RESTORE_STEPS = ['PENDING', 'STAGED', 'APPLYING', 'VALIDATING', 'FLIPPING', 'COMPLETE'] as const;
export const BACKUP_STEPS = ['PENDING', 'QUIESCED', 'SNAPSHOTTING', 'SIGNING', 'COMPLETE'] as const;

export function drProgress(kind: string, state: string): { steps: { name: string; done: boolean; current: boolean }[]; ended?: string } {
  const steps: readonly string[] = kind === 'backup' ? BACKUP_STEPS : RESTORE_STEPS;
  const at = steps.indexOf(state);
  // REJECTED, FAILED, ROLLED_BACK: off the path; the steps show none as current.
  const reached = at === -1 ? -1 : at;
  return {
    steps: steps.map((name, index) => ({ name, done: index < reached || state === 'COMPLETE', current: index === reached && state !== 'COMPLETE' })),
    ended: at === -1 ? state : undefined,
  };
}

/** A verdicts record as lines of text ("policy: allowed by p1, p2"). */
export function verdictLines(verdicts: unknown): { gate: string; ok: boolean; text: string }[] {
  if (!verdicts || typeof verdicts !== 'object') return [];
  // biome-ignore lint/suspicious/noExplicitAny: a loose API record, read defensively field by field
  const v = verdicts as Record<string, any>;
  const lines: { gate: string; ok: boolean; text: string }[] = [];
  if (v.policy)
    lines.push({
      gate: 'policy',
      ok: Boolean(v.policy.allowed),
      text: `${v.policy.allowed ? 'allowed' : 'denied'}${Array.isArray(v.policy.policyIds) && v.policy.policyIds.length ? ` by ${v.policy.policyIds.join(', ')}` : ''}${v.policy.assumesApproval ? ' (once approved)' : ''}`,
    });
  if (v.autonomy)
    lines.push({
      gate: 'autonomy',
      ok: true,
      text: `level ${v.autonomy.level} (${v.autonomy.meaning}), ${v.autonomy.category}: ${v.autonomy.unattended ? 'may apply unattended' : 'needs a person'}`,
    });
  if (v.approval)
    lines.push({
      gate: 'approval',
      ok: true,
      text: v.approval.required
        ? `needs ${v.approval.quorum} approval${v.approval.quorum === 1 ? '' : 's'} from approvers: ${(v.approval.approvers ?? []).join(', ') || 'nobody configured'}`
        : 'not required',
    });
  if (v.killSwitch) lines.push({ gate: 'kill switch', ok: !v.killSwitch.engaged, text: v.killSwitch.engaged ? 'engaged' : 'released' });
  if (v.freeze) {
    // `applies`: the task changes something, so a freeze would hold it; `active`: the freeze window in force now.
    const frozen = Boolean(v.freeze.applies && v.freeze.active);
    lines.push({
      gate: 'freeze',
      ok: !frozen || Boolean(v.freeze.overridden),
      text: frozen ? `frozen (${v.freeze.active})${v.freeze.overridden ? ', overridden' : ''}` : 'no freeze in force',
    });
  }
  if (v.blastRadius)
    lines.push({
      gate: 'blast radius',
      ok: Boolean(v.blastRadius.withinLimits),
      text: `${v.blastRadius.changing} of at most ${v.blastRadius.maxChangingTasks} changing, ${v.blastRadius.deletes} of at most ${v.blastRadius.maxDeletes} deletes`,
    });
  if (v.rateLimit)
    lines.push({
      gate: 'rate limit',
      ok: Boolean(v.rateLimit.allowed),
      text: v.rateLimit.limited ? (v.rateLimit.allowed ? 'within the limit' : `over the limit, retry in ${v.rateLimit.retryAfterSeconds ?? '?'} s`) : 'none',
    });
  return lines;
}
