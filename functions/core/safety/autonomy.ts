import type { ActionCategory } from '../actions/contract.ts';

/**
 * Autonomy levels, per environment (the ceiling) and per run (never above the ceiling):
 * 0 plan only: every apply needs a human; 1: READ applies unattended; 2: READ and WRITE apply
 * unattended; 3: everything within policy applies unattended.
 */
export const AUTONOMY_MEANING = {
  0: 'plan only: every apply needs a human approval',
  1: 'READ actions apply unattended; anything else needs approval',
  2: 'READ and WRITE actions apply unattended; DEPLOY and ROLLBACK need approval',
  3: 'everything within policy applies unattended',
} as const;

const UNATTENDED_AT: Record<ActionCategory, number> = { READ: 1, WRITE: 2, DEPLOY: 3, ROLLBACK: 3 };

/** True when a task of this category may apply without a human at this autonomy. */
export function appliesUnattended(category: ActionCategory, autonomy: number, actionRequiresApproval: boolean): boolean {
  return !actionRequiresApproval && autonomy >= UNATTENDED_AT[category];
}

/** The autonomy a run actually has: what it asked for, capped by the environment and the kill switch. */
export function effectiveAutonomy(requested: number | undefined, ceiling: number, killSwitchEngaged: boolean): number {
  if (killSwitchEngaged) return 0;
  return Math.min(requested ?? ceiling, ceiling);
}
