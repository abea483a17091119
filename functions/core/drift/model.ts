import type { TaskPlan } from '../runs/model.ts';

export const DriftStatus = {
  /** Found and not acted on. */
  OPEN: 'OPEN',
  /** A remediation run was asked for (it may be waiting for approval). */
  REMEDIATING: 'REMEDIATING',
  /** The resource is back to what its last run applied (remediated, or put back by hand), or drifted on to another state (a new finding). */
  RESOLVED: 'RESOLVED',
} as const;
export type DriftStatus = (typeof DriftStatus)[keyof typeof DriftStatus];

/** The remediation run asked for from a finding. */
export interface DriftRemediation {
  /** Unset only between the finding's claim and the run's creation. */
  runId?: string;
  requestedBy: string;
  reason: string;
  at: string;
}

/**
 * One drift: a resource whose state differs from what the SUCCEEDED run that last changed it applied,
 * in one observed state. Its id is derived from the environment, the resource and that state, so a
 * sweep that sees the same drift again finds the same finding (one finding per resource and observed
 * state, not one per sweep).
 */
export interface DriftFinding {
  id: string;
  environment: string;
  resource: string;
  status: DriftStatus;
  /** The run (and its task) that last changed the resource, whose plan is re-planned. */
  runId: string;
  taskIndex: number;
  action: string;
  actionVersion: string;
  params: Record<string, unknown>;
  /** What re-planning that task now would do: the way back to the applied state. */
  change: TaskPlan['change'];
  summary: string;
  diff: string;
  /** The digest of the observed state (the re-plan's change, preconditions and diff). */
  observedDigest: string;
  detectedAt: string;
  lastSeenAt: string;
  /** The sweep that found it. */
  correlationId: string;
  resolvedAt?: string;
  resolution?: 'in-sync' | 'superseded';
  remediation?: DriftRemediation;
}
