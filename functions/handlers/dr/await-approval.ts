import * as z from 'zod';
import { requestRestoreApproval } from '../../core/dr/restore-approval.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

const AwaitApprovalInput = z.object({ taskToken: z.string().min(1) });

/** The restore's approval gate (waitForTaskToken): by policy at once, or through an approval run. */
export const createHandler = drStepHandler('AwaitApproval', async (deps, input, event, all) => {
  const { taskToken } = AwaitApprovalInput.parse(event);
  return requestRestoreApproval(all, deps, { jobId: input.jobId, correlationId: input.correlationId, taskToken });
});

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/await-approval.ts', ALL_PARTS);
