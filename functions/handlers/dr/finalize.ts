import { finishJob } from '../../core/dr/jobs.ts';
import { DrJobState } from '../../core/dr/model.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

/** Both workflows' last step: records COMPLETE, REJECTED or FAILED with the error the Catch carried. */
export const createHandler = drStepHandler('Finalize', async (deps, input) => {
  const outcome = input.result?.outcome ?? 'FAILED';
  const job = await finishJob(deps, input.jobId, { state: DrJobState[outcome], error: input.result?.error });
  return { state: job.state };
});

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/finalize.ts', ALL_PARTS);
