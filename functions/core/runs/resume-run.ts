import { InvalidRunTransition, RunAlreadyFinished, RunNotFound } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { isFinished } from './model.ts';
import type { Principal, RunStatus } from './model.ts';
import type { ResumeOutcome } from './ports.ts';

/**
 * `POST /runs/{id}/resume`: a run that has not finished but whose workflow stopped (it failed after
 * its retries, timed out, or was stopped outside Maestro) carries on from where it stopped. In AWS
 * that is RedriveExecution; locally the SFN stand-in does the same from the last state entered.
 * Nothing is applied twice: every task's result is memoized under its idempotency key.
 */
export async function resumeRun(
  deps: RunDeps,
  input: { runId: string; principal: Principal },
): Promise<{ runId: string; status: RunStatus; workflow: Exclude<ResumeOutcome, 'running'> }> {
  const run = await deps.runs.get(input.runId);
  if (!run) throw new RunNotFound(`run ${input.runId} does not exist`, { field: 'id' });
  if (isFinished(run)) throw new RunAlreadyFinished(`run ${run.id} already ended ${run.status}; there is nothing to resume`);
  const workflow = await deps.engine.resumeRun({
    runId: run.id,
    correlationId: run.correlationId,
    executionArn: run.executionArn ?? deps.engine.executionArnOf(run.id),
  });
  if (workflow === 'running') throw new InvalidRunTransition(`the workflow of run ${run.id} is still running; there is nothing to resume`);
  await deps.runs.commit(run.id, {
    events: [
      { type: 'RunResumed', actor: input.principal.id, message: `${input.principal.id} resumed the run's workflow (${workflow})`, payload: { workflow } },
    ],
  });
  return { runId: run.id, status: run.status, workflow };
}
