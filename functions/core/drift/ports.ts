import type { OutboxMessage } from '../outbox/model.ts';
import type { RunDeps } from '../runs/deps.ts';
import type { Page } from '../runs/ports.ts';
import type { DriftFinding, DriftStatus } from './model.ts';

/** Where drift findings live (the state table, in AWS and the embedded stack). */
export interface DriftStore {
  /**
   * Records a new finding together with its `DriftDetected` announcement (an outbox row, in the same
   * write); a finding already on record gets only its `lastSeenAt` moved, and announces nothing again.
   */
  record(finding: DriftFinding, announcement: OutboxMessage): Promise<{ created: boolean; finding: DriftFinding }>;
  get(id: string): Promise<DriftFinding | undefined>;
  /** Newest first. */
  list(options?: { environment?: string; status?: readonly DriftStatus[]; limit?: number; cursor?: string }): Promise<Page<DriftFinding>>;
  /** Changes a finding; with `expectStatus`, only from one of those statuses (else ConcurrentModification). */
  update(id: string, patch: Partial<Omit<DriftFinding, 'id'>>, expectStatus?: readonly DriftStatus[]): Promise<DriftFinding>;
}

/** What sweeps and remediation need: the run workflow's deps (catalog, executor, gates, createRun) and the store. */
export interface DriftDeps extends RunDeps {
  drift: DriftStore;
}
