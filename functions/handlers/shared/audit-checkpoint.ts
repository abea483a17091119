import { checkpointRunHead } from '../../core/audit/seal-run-head.ts';
import type { SealOutcome } from '../../core/audit/seal-run-head.ts';
import type { HandlerDeps } from './deps.ts';
import type { Run } from '../../core/runs/model.ts';

/**
 * Signs a checkpoint of the run's audit head (see core/audit/seal-run-head.ts): after a workflow step
 * changed the run's status (`unlessStatus`: the status before the step), and after each approval
 * decision or cancel through the API. Off where the function may not sign (`audit.checkpoints`; in
 * AWS the API and the executing steps). Never throws: a failed checkpoint is covered by the next head.
 */
export async function checkpointRun(
  deps: Pick<HandlerDeps, 'runs' | 'clock' | 'auditSealing' | 'config'>,
  runId: string,
  options: { unlessStatus?: string; head?: Run } = {},
): Promise<SealOutcome> {
  if (deps.config.audit.checkpoints === 'off') return 'not-configured';
  try {
    return await checkpointRunHead({ runs: deps.runs, sealing: deps.auditSealing, clock: deps.clock }, runId, options);
  } catch (error) {
    console.warn(`audit checkpoint of run ${runId} failed: ${(error as Error).message}`);
    return 'failed';
  }
}
