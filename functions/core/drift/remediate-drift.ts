import * as z from 'zod';
import { ConcurrentModification, DriftFindingNotFound, DriftNotRemediable, ValidationFailed } from '../errors.ts';
import { createRun } from '../runs/create-run.ts';
import type { Principal } from '../runs/model.ts';
import { parseOrThrow } from '../validation.ts';
import { DriftStatus } from './model.ts';
import type { DriftFinding } from './model.ts';
import type { DriftDeps } from './ports.ts';

export const RemediateRequest = z.strictObject({
  /** Why the drift is put back: the remediation run's reason for access. */
  reason: z.string().trim().min(1, 'must say why').max(1000),
});

export interface RemediationResult {
  runId: string;
  /** False when the finding was already being remediated: the run asked for then. */
  created: boolean;
  finding: DriftFinding;
}

/**
 * Asks for a run that applies again what the finding's run applied (the same action and params), through
 * the normal admission path: validated, gated, and parked for approval wherever the environment wants
 * one (prod). The finding is claimed first (OPEN → REMEDIATING), so two requests make one run.
 */
export async function remediateDrift(
  deps: DriftDeps,
  command: { id: string; body: unknown; principal: Principal; correlationId: string },
): Promise<RemediationResult> {
  const request = parseOrThrow(RemediateRequest, command.body);
  const minLength = deps.guardrails.reasonForAccess.minLength;
  if (request.reason.length < minLength) throw new ValidationFailed(`must be at least ${minLength} characters`, { field: 'reason' });
  const finding = await deps.drift.get(command.id);
  if (!finding) throw new DriftFindingNotFound(`drift finding ${command.id} does not exist`, { field: 'id' });
  if (finding.status === DriftStatus.REMEDIATING && finding.remediation?.runId) {
    return { runId: finding.remediation.runId, created: false, finding };
  }
  if (finding.status !== DriftStatus.OPEN) {
    throw new DriftNotRemediable(`drift finding ${finding.id} is ${finding.status}: only an OPEN finding is remediated`, {
      field: 'id',
      details: { status: finding.status },
    });
  }

  const remediation = { requestedBy: command.principal.id, reason: request.reason, at: deps.clock().toISOString() };
  let claimed: DriftFinding;
  try {
    claimed = await deps.drift.update(finding.id, { status: DriftStatus.REMEDIATING, remediation }, [DriftStatus.OPEN]);
  } catch (error) {
    if (!(error instanceof ConcurrentModification)) throw error;
    const now = await deps.drift.get(finding.id);
    if (now?.remediation?.runId) return { runId: now.remediation.runId, created: false, finding: now };
    throw new DriftNotRemediable(`drift finding ${finding.id} is being remediated by another request; try again shortly`, { field: 'id' });
  }

  let runId: string;
  try {
    ({ runId } = await createRun(deps, {
      body: {
        goal: `Remediate drift ${finding.id}: put ${finding.resource} back to what run ${finding.runId} applied`,
        mode: 'APPLY',
        environment: finding.environment,
        tasks: [{ action: finding.action, params: finding.params }],
        reasonForAccess: request.reason,
      },
      principal: command.principal,
      correlationId: command.correlationId,
    }));
  } catch (error) {
    // Refused (rate limit, capacity, a catalog without the action): the finding is open again.
    await deps.drift.update(finding.id, { status: DriftStatus.OPEN, remediation: undefined }, [DriftStatus.REMEDIATING]);
    throw error;
  }
  const updated = await deps.drift.update(finding.id, { remediation: { ...remediation, runId } });
  return { runId, created: true, finding: { ...claimed, ...updated } };
}
