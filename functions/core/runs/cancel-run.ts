import { RunAlreadyFinished } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { loadRun } from './load-run.ts';
import { RunStatus, TERMINAL_STATUSES, isFinished } from './model.ts';
import type { Principal, Run } from './model.ts';

const CANCELLABLE = Object.values(RunStatus).filter((status) => !TERMINAL_STATUSES.has(status));

/**
 * Cancels a run that has not finished: records CANCELLED (every later step then refuses to go on)
 * and stops its workflow execution.
 */
export async function cancelRun(deps: RunDeps, input: { runId: string; principal: Principal; reason?: string }): Promise<Run> {
  const { run } = await loadRun(deps, input.runId);
  if (isFinished(run)) throw new RunAlreadyFinished(`run ${run.id} already finished ${run.status}`, { field: 'id' });
  const cancelled = await deps.runs.commit(run.id, {
    expectStatus: CANCELLABLE,
    run: { status: RunStatus.CANCELLED, finishedAt: deps.clock().toISOString() },
    events: [
      {
        type: 'RunCancelled',
        level: 'WARN',
        actor: input.principal.id,
        message: `cancelled by ${input.principal.id}${input.reason ? `: ${input.reason}` : ''} (was ${run.status})`,
        payload: { previousStatus: run.status, reason: input.reason },
      },
    ],
  });
  if (run.executionArn) await deps.engine.stopRun(run.executionArn, `cancelled by ${input.principal.id}`);
  return cancelled;
}
