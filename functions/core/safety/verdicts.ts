/**
 * What a task would meet at apply, as the plan sees it: the same gates applyTask runs, evaluated
 * without acting (Cedar decides but nothing is refused, the rate limit is peeked, not taken). It
 * changes no state. Recorded on the task (`verdicts`) and in the run's `PlanSimulated` event.
 */
export interface TaskVerdicts {
  /** True when every gate below would let the task apply (an approval it needs being granted). */
  wouldApply: boolean;
  /** Cedar at the apply gate, per resource, with the policies that decided. */
  policy: {
    allowed: boolean;
    policyIds: string[];
    resources: { uri: string; access: string; allowed: boolean; policyIds: string[] }[];
    /** The decision assumes the run's approval was granted (it is evaluated as at apply, after approval). */
    assumesApproval: boolean;
  };
  autonomy: { level: number; meaning: string; category: string; unattended: boolean };
  /** The run's approval: needed when some task may not apply unattended, or its inputs were flagged. */
  approval: { required: boolean; approvers: string[]; quorum: number };
  killSwitch: { engaged: boolean };
  freeze: { applies: boolean; active?: string; overridden: boolean };
  blastRadius: { changing: number; maxChangingTasks: number; deletes: number; maxDeletes: number; withinLimits: boolean };
  rateLimit: { limited: boolean; allowed: boolean; retryAfterSeconds?: number };
}
