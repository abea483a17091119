import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { decideApproval, refuseAgentDecision } from '../../core/runs/decide-approval.ts';
import { AUTONOMY_MEANING } from '../../core/safety/autonomy.ts';
import { grantFreezeOverride } from '../../core/safety/change-freeze.ts';
import { readControl } from '../../core/safety/gates.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { json, readJsonBody } from './http.ts';
import { RunIdPath } from './operation-request.ts';
import type { OperationRequest } from './operation-request.ts';
import { checkpointRun } from '../shared/audit-checkpoint.ts';

export const KillSwitchBody = z.strictObject({
  engaged: z.boolean(),
  reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(500),
});
export const FreezeOverrideBody = z.strictObject({
  environment: z.string().min(1),
  justification: z.string().trim().min(20, 'write the justification out, in at least 20 characters').max(1000),
  until: z.iso.datetime({ offset: true }),
});
export const DecisionBody = z.strictObject({ comment: z.string().trim().min(1).max(1000).optional() }).default({});

/** The safety envelope's operations: the control record, the kill switch, approval decisions. */
export const safetyOperations = {
  async getControl({ deps }: OperationRequest) {
    const control = await readControl(deps);
    const journal = (await deps.control.listEvents()).slice(-20);
    return json(200, {
      killSwitch: control.killSwitch,
      freezeOverrides: control.freezeOverrides ?? [],
      guardrails: deps.guardrails,
      policies: deps.policy.policyIds,
      autonomyLevels: AUTONOMY_MEANING,
      journal,
    });
  },

  async addFreezeOverride({ event, deps, principal, correlationId }: OperationRequest) {
    requireRole(principal, Role.admin);
    const body = parseOrThrow(FreezeOverrideBody, readJsonBody(event));
    const control = await grantFreezeOverride(deps, { ...body, grantedBy: principal.id }, correlationId);
    return json(200, { freezeOverrides: control.freezeOverrides });
  },

  async setKillSwitch({ event, deps, principal, correlationId }: OperationRequest) {
    requireRole(principal, Role.admin);
    const body = parseOrThrow(KillSwitchBody, readJsonBody(event));
    const control = await deps.control.setKillSwitch(
      { engaged: body.engaged, reason: body.reason, changedBy: principal.id, changedAt: deps.clock().toISOString() },
      correlationId,
    );
    return json(200, control);
  },

  async listLocks({ deps }: OperationRequest) {
    return json(200, { locks: await deps.locks.list() });
  },

  async approveRun(request: OperationRequest) {
    return decide(request, 'approve');
  },

  async rejectRun(request: OperationRequest) {
    return decide(request, 'reject');
  },
};

async function decide({ event, deps, principal }: OperationRequest, decision: 'approve' | 'reject') {
  const runId = parseOrThrow(RunIdPath, event.pathParameters ?? {}).id;
  await refuseAgentDecision(deps, { runId, principal, decision, via: 'api' });
  requireRole(principal, Role.approver, Role.admin);
  const body = parseOrThrow(DecisionBody, readJsonBody(event));
  const run = await decideApproval(deps, { runId, principal, decision, comment: body.comment, via: 'api' });
  await checkpointRun(deps, runId); // each decision is anchored, quorum reached or not
  return json(200, {
    runId,
    status: run.status,
    approval: { state: run.approval?.state, decidedBy: run.approval?.decidedBy, decidedAt: run.approval?.decidedAt },
  });
}
