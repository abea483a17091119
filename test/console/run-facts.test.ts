import { describe, expect, it } from 'vitest';
import { apiErrorOf, approvalSummary, canDecide, canRollBack, drProgress, errorLine, filterRuns, verdictLines } from '../../console/src/lib/run-facts.ts';
import type { RunSummaryView } from '../../console/src/lib/run-facts.ts';

const parked = (overrides: Partial<RunSummaryView> = {}): RunSummaryView => ({
  id: 'r1',
  status: 'AWAITING_APPROVAL',
  goal: 'publish',
  mode: 'APPLY',
  environment: 'prod',
  requestedBy: 'dev-operator',
  createdAt: '2026-12-02T00:00:00Z',
  approval: { state: 'PENDING', approvers: ['dev-approver', 'admin@maestro.example'], quorum: 1, deadline: '2026-12-03T00:00:00Z', decisions: [] },
  ...overrides,
});

describe('approvalSummary', () => {
  it('says who must approve and how many approvals are missing', () => {
    expect(approvalSummary(parked().approval)).toBe('needs 1 approval from approvers: dev-approver, admin@maestro.example');
    const two = { ...parked().approval!, quorum: 2, decisions: [{ by: 'dev-approver', decision: 'approve' as const, at: 'x' }] };
    expect(approvalSummary(two)).toBe('needs 1 approval from approvers: dev-approver, admin@maestro.example');
    expect(approvalSummary({ ...two, quorum: 3 })).toBe('needs 2 approvals from approvers: dev-approver, admin@maestro.example');
    expect(approvalSummary({ ...two, state: 'APPROVED', quorum: 1 })).toBe('approved (1 of 1)');
    expect(approvalSummary(undefined)).toBe('no approval needed');
  });
});

describe('canDecide (whether the approve and reject buttons are shown)', () => {
  it('offers them to an approver listed by subject or by email', () => {
    expect(canDecide(parked(), { sub: 'dev-approver' })).toBe(true);
    expect(canDecide(parked(), { sub: 'dev-admin', email: 'admin@maestro.example' })).toBe(true);
  });

  it('never to the requester, even one listed as an approver', () => {
    expect(canDecide(parked({ requestedBy: 'dev-approver' }), { sub: 'dev-approver' })).toBe(false);
    expect(canDecide(parked({ requestedBy: 'admin@maestro.example' }), { sub: 'dev-admin', email: 'admin@maestro.example' })).toBe(false);
  });

  it('not to someone who is not an approver, has decided already, or when nothing waits', () => {
    expect(canDecide(parked(), { sub: 'dev-operator' })).toBe(false);
    expect(canDecide(parked(), undefined)).toBe(false);
    const decided = parked();
    decided.approval!.decisions.push({ by: 'dev-approver', decision: 'approve', at: 'x' });
    expect(canDecide(decided, { sub: 'dev-approver' })).toBe(false);
    expect(canDecide(parked({ status: 'SUCCEEDED' }), { sub: 'dev-approver' })).toBe(false);
  });
});

describe('canRollBack', () => {
  it('offers a rollback of a finished APPLY run not rolled back yet', () => {
    expect(canRollBack(parked({ status: 'SUCCEEDED' }))).toBe(true);
    expect(canRollBack(parked({ status: 'SUCCEEDED', rolledBackBy: 'r2' }))).toBe(false);
    expect(canRollBack(parked({ status: 'SUCCEEDED', mode: 'PLAN' }))).toBe(false);
    expect(canRollBack(parked())).toBe(false);
  });
});

describe('filterRuns', () => {
  const runs = [parked(), parked({ id: 'r2', environment: 'dev', status: 'SUCCEEDED', requestedBy: 'dev-admin', goal: 'Tidy up' })];
  it('keeps the runs matching every filter', () => {
    expect(filterRuns(runs, {}).map((run) => run.id)).toEqual(['r1', 'r2']);
    expect(filterRuns(runs, { environment: 'dev' }).map((run) => run.id)).toEqual(['r2']);
    expect(filterRuns(runs, { status: 'AWAITING_APPROVAL' }).map((run) => run.id)).toEqual(['r1']);
    expect(filterRuns(runs, { requester: 'ADMIN', text: 'tidy' }).map((run) => run.id)).toEqual(['r2']);
    expect(filterRuns(runs, { requester: 'admin', environment: 'prod' })).toEqual([]);
  });
});

describe('errors as the console shows them', () => {
  it('always carry the code and the correlation id', () => {
    const error = apiErrorOf(403, { error: { code: 'Forbidden', message: 'needs approver', correlationId: 'c-1' } }, 'c-header');
    expect(errorLine(error)).toBe('Forbidden: needs approver · HTTP 403 · correlation id c-1');
  });

  it('describe an answer without an error body, with the header correlation id', () => {
    expect(errorLine(apiErrorOf(502, '<html>bad gateway</html>', 'c-2'))).toBe(
      'HTTP502: the API answered without an error body · HTTP 502 · correlation id c-2',
    );
    expect(apiErrorOf(400, { error: { code: 'ValidationFailed', message: 'bad', field: 'tasks[0].params' } }, null).field).toBe('tasks[0].params');
  });
});

describe('drProgress', () => {
  it('walks a restore STAGED → APPLYING → VALIDATING → FLIPPING → COMPLETE', () => {
    const applying = drProgress('restore', 'APPLYING');
    expect(applying.steps.filter((step) => step.done).map((step) => step.name)).toEqual(['PENDING', 'STAGED']);
    expect(applying.steps.find((step) => step.current)?.name).toBe('APPLYING');
    expect(drProgress('restore', 'COMPLETE').steps.every((step) => step.done)).toBe(true);
    expect(drProgress('restore', 'REJECTED').ended).toBe('REJECTED');
    expect(drProgress('backup', 'SIGNING').steps.map((step) => step.name)).toEqual(['PENDING', 'QUIESCED', 'SNAPSHOTTING', 'SIGNING', 'COMPLETE']);
  });
});

describe('verdictLines', () => {
  it('reads a plan simulation as one line per gate', () => {
    const lines = verdictLines({
      wouldApply: true,
      policy: { allowed: true, policyIds: ['prod-needs-approval'], resources: [], assumesApproval: true },
      autonomy: { level: 0, meaning: 'observe', category: 'WRITE', unattended: false },
      approval: { required: true, approvers: ['dev-approver', 'dev-admin'], quorum: 1 },
      killSwitch: { engaged: false },
      freeze: { applies: false, overridden: false },
      blastRadius: { changing: 1, maxChangingTasks: 10, deletes: 0, maxDeletes: 2, withinLimits: true },
      rateLimit: { limited: false, allowed: true },
    });
    expect(lines.map((line) => `${line.gate}: ${line.text}`)).toEqual([
      'policy: allowed by prod-needs-approval (once approved)',
      'autonomy: level 0 (observe), WRITE: needs a person',
      'approval: needs 1 approval from approvers: dev-approver, dev-admin',
      'kill switch: released',
      'freeze: no freeze in force',
      'blast radius: 1 of at most 10 changing, 0 of at most 2 deletes',
      'rate limit: none',
    ]);
    expect(verdictLines(undefined)).toEqual([]);
    const frozen = verdictLines({ freeze: { applies: true, active: 'year-end', overridden: false } });
    expect(frozen).toEqual([{ gate: 'freeze', ok: false, text: 'frozen (year-end)' }]);
    expect(verdictLines({ freeze: { applies: true, active: 'year-end', overridden: true } })[0].ok).toBe(true);
    expect(verdictLines({ freeze: { applies: true, overridden: false } })[0]).toEqual({ gate: 'freeze', ok: true, text: 'no freeze in force' });
  });
});
