import { StalePlan } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { RunStatus } from './model.ts';

/**
 * The approval gate. The workflow parks on `taskToken` until the token is completed. Until the
 * safety envelope decides when a human must approve, every run is approved at once by policy, and
 * the gate completes its own token, so the wait-for-task-token path runs for every APPLY run.
 */
export async function requestApproval(deps: RunDeps, input: { runId: string; taskToken: string; planDigest: string }): Promise<void> {
  const { run } = await loadRun(deps, input.runId);
  assertNotCancelled(run);
  if (run.planDigest !== input.planDigest) {
    await deps.engine.failWait(input.taskToken, 'StalePlan', 'the plan changed after it was offered for approval');
    throw new StalePlan(`run ${run.id} was re-planned; the approval request is for an older plan`);
  }
  if (run.status === RunStatus.PLANNED) {
    await deps.runs.commit(run.id, {
      expectStatus: [RunStatus.PLANNED],
      events: [
        {
          type: 'ApprovalNotRequired',
          message: 'approved by policy: no approval rule applies to this run',
          actor: 'policy',
          payload: { planDigest: run.planDigest },
        },
      ],
    });
  }
  await deps.engine.completeWait(input.taskToken, { approved: true, approvedBy: 'policy', planDigest: run.planDigest });
}
