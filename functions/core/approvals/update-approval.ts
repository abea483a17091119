import { ConcurrentModification, InvalidRunTransition } from '../errors.ts';
import type { RunDeps } from '../runs/deps.ts';
import type { EventDraft, Run, RunApproval, RunStatus } from '../runs/model.ts';

export interface ApprovalUpdate {
  approval: RunApproval;
  status?: RunStatus;
  events: EventDraft[];
}

/**
 * Read-modify-write of a run's approval record: `change` sees the approval as stored and returns the
 * new one; the commit is refused if anything happened to the run since the read, and then the change
 * is computed again from the fresh record, so concurrent decisions never overwrite each other.
 */
export async function updateApproval(deps: RunDeps, runId: string, change: (run: Run, approval: RunApproval) => ApprovalUpdate | undefined): Promise<Run> {
  for (let attempt = 1; ; attempt += 1) {
    const run = await deps.runs.get(runId);
    if (!run?.approval) throw new InvalidRunTransition(`run ${runId} has no approval request`, { field: 'id' });
    const update = change(run, run.approval);
    if (!update) return run;
    try {
      return await deps.runs.commit(runId, {
        expectEventSeq: run.eventSeq,
        run: { approval: update.approval, ...(update.status ? { status: update.status } : {}) },
        events: update.events,
      });
    } catch (error) {
      if (!(error instanceof ConcurrentModification) || attempt >= 8) throw error;
    }
  }
}
