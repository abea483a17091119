import { canonicalJson, sha256Hex } from '../canonical-json.ts';
import type { OutboxMessage } from '../outbox/model.ts';
import type { TaskPlan } from '../runs/model.ts';
import type { DriftFinding } from './model.ts';

/** The event type a new finding is announced with (outbox → EventBridge and subscriptions). */
export const DRIFT_DETECTED = 'DriftDetected';

/** A diff longer than this travels cut (the finding keeps it whole: GET /drift/{id}). */
const MAX_DIFF_CHARS = 2_000;

/** The digest of what a re-plan observed: equal states give equal digests (plans are deterministic). */
export const observedDigestOf = (plan: Pick<TaskPlan, 'change' | 'preconditions' | 'diff'>) =>
  sha256Hex(canonicalJson({ change: plan.change, preconditions: plan.preconditions, diff: plan.diff }));

/** One finding per environment, resource and observed state: `drift-<32 hex>`. */
export const findingIdOf = (environment: string, resource: string, observedDigest: string) =>
  `drift-${sha256Hex(canonicalJson({ environment, resource, observedDigest })).slice(0, 32)}`;

/**
 * The announcement of a new finding. Its id, `<findingId>#0`, is what receivers dedupe on (seq 0: it
 * is not an event of the run's own journal); `runId` is the run whose applied state drifted.
 */
export function driftDetectedMessage(finding: DriftFinding): OutboxMessage {
  const cut = finding.diff.length > MAX_DIFF_CHARS;
  return {
    id: `${finding.id}#0`,
    runId: finding.runId,
    seq: 0,
    type: DRIFT_DETECTED,
    level: 'WARN',
    correlationId: finding.correlationId,
    ts: finding.detectedAt,
    environment: finding.environment,
    message: `drift on ${finding.resource}: re-planning what run ${finding.runId} applied would ${finding.summary}`,
    payload: {
      findingId: finding.id,
      environment: finding.environment,
      resource: finding.resource,
      runId: finding.runId,
      taskIndex: finding.taskIndex,
      action: finding.action,
      change: finding.change,
      summary: finding.summary,
      diff: cut ? `${finding.diff.slice(0, MAX_DIFF_CHARS)}\n…` : finding.diff,
      ...(cut ? { diffTruncated: true } : {}),
      links: { self: `/drift/${finding.id}`, remediate: `/drift/${finding.id}/remediate` },
    },
  };
}
