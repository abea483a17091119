import { DrJobNotFound } from '../errors.ts';
import { FINISHED_DR_STATES } from './model.ts';
import type { DrRepository } from './ports.ts';

/** How often a waiting status request reads the job again. */
export const JOB_POLL_MS = 250;

/** The DR job, which must exist. */
export async function loadJob(repo: Pick<DrRepository, 'getJob'>, id: string) {
  const job = await repo.getJob(id);
  if (!job) throw new DrJobNotFound(`DR job ${id} does not exist`, { field: 'id' });
  return job;
}

/**
 * The job once it has finished, or as it stands after `waitMs` (long polling: API Gateway buffers a
 * response, so the status stream holds the request open instead of streaming).
 */
export async function awaitFinishedJob(
  deps: { repo: Pick<DrRepository, 'getJob'>; clock(): Date; sleep(ms: number): Promise<unknown> },
  id: string,
  waitMs: number,
) {
  const deadline = deps.clock().getTime() + waitMs;
  let job = await loadJob(deps.repo, id);
  while (!FINISHED_DR_STATES.includes(job.state) && deps.clock().getTime() < deadline) {
    await deps.sleep(JOB_POLL_MS);
    job = await loadJob(deps.repo, id);
  }
  return job;
}
