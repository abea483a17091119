import type { DataCopy } from './pointer.ts';

export const DrJobKind = { backup: 'BACKUP', restore: 'RESTORE' } as const;
export type DrJobKind = (typeof DrJobKind)[keyof typeof DrJobKind];

/** Backup: PENDING → QUIESCED → SNAPSHOTTING → SIGNING → COMPLETE | FAILED. Restore: PENDING → STAGED → APPLYING → VALIDATING → FLIPPING → COMPLETE | REJECTED | FAILED, then ROLLED_BACK. */
export const DrJobState = {
  PENDING: 'PENDING',
  QUIESCED: 'QUIESCED',
  SNAPSHOTTING: 'SNAPSHOTTING',
  SIGNING: 'SIGNING',
  STAGED: 'STAGED',
  APPLYING: 'APPLYING',
  VALIDATING: 'VALIDATING',
  AWAITING_APPROVAL: 'AWAITING_APPROVAL',
  FLIPPING: 'FLIPPING',
  COMPLETE: 'COMPLETE',
  REJECTED: 'REJECTED',
  FAILED: 'FAILED',
  ROLLED_BACK: 'ROLLED_BACK',
} as const;
export type DrJobState = (typeof DrJobState)[keyof typeof DrJobState];

export const FINISHED_DR_STATES: readonly DrJobState[] = ['COMPLETE', 'REJECTED', 'FAILED', 'ROLLED_BACK'];

/** A restore's mode: a real restore flips the pointer; a test restores into an isolated copy and cleans up. */
export const RestoreMode = { restore: 'RESTORE', test: 'TEST' } as const;
export type RestoreMode = (typeof RestoreMode)[keyof typeof RestoreMode];

export type StepState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

export interface DrStep {
  name: string;
  state: StepState;
  startedAt?: string;
  finishedAt?: string;
  detail?: string;
}

export interface DrJob {
  id: string;
  kind: DrJobKind;
  target: string;
  state: DrJobState;
  reason: string;
  requestedBy: string;
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  steps: DrStep[];
  /** Whether the artifact proved itself (backup: signed and stored; restore: signature and every hash checked). */
  verified: boolean;
  error?: { name: string; message: string };
  /** Backup: the copy that was snapshotted, the parts so far, the stored manifest. */
  source?: DataCopy;
  startedAt?: string;
  quiescedUntil?: string;
  parts?: unknown[];
  sources?: unknown[];
  result?: Record<string, unknown>;
  /** Restore */
  snapshotId?: string;
  manifestVersionId?: string;
  dryRun?: boolean;
  mode?: RestoreMode;
  copy?: DataCopy;
  report?: Record<string, unknown>;
  smokeTests?: SmokeTestResult[];
  /** Restore: the human approval before the flip (a Maestro run), with the workflow's wait token sealed. */
  approval?: { runId?: string; tokenHash: string; tokenSealed: string; decidedBy?: string; outcome?: string };
  version: number;
  eventSeq: number;
}

export interface DrEvent {
  jobId: string;
  seq: number;
  type: string;
  state: DrJobState;
  progress: number;
  message: string;
  ts: string;
  data?: Record<string, unknown>;
}

export interface SmokeTestResult {
  name: string;
  source: string;
  passed: boolean;
  expected: unknown;
  actual: unknown;
}

export const BACKUP_STEPS = ['Quiesce', 'Snapshot', 'Unquiesce', 'SignManifest'] as const;
export const RESTORE_STEPS = ['Stage', 'Apply', 'Validate', 'AwaitApproval', 'FlipPointer'] as const;
export const RESTORE_TEST_STEPS = ['Stage', 'Apply', 'Validate', 'RecordEvidence', 'DiscardCopy'] as const;
export const DRY_RUN_STEPS = ['Stage'] as const;

/** Share of steps done: the progress the status and events report. */
export function progressOf(steps: readonly DrStep[], state: DrJobState): number {
  if (FINISHED_DR_STATES.includes(state)) return 1;
  if (steps.length === 0) return 0;
  const done = steps.filter((s) => s.state === 'SUCCEEDED' || s.state === 'SKIPPED').length;
  return Math.round((done / steps.length) * 100) / 100;
}
