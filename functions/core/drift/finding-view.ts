import type { DriftFinding } from './model.ts';

/** A finding as the API shows it, with where to act on it. */
export function findingView(finding: DriftFinding) {
  return {
    ...finding,
    links: {
      self: `/drift/${finding.id}`,
      remediate: `/drift/${finding.id}/remediate`,
      run: `/runs/${finding.runId}`,
      ...(finding.remediation?.runId ? { remediationRun: `/runs/${finding.remediation.runId}` } : {}),
    },
  };
}
