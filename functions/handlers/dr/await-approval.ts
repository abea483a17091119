import { z } from 'zod';
import { requestRestoreApproval } from '../../core/dr/restore-approval.ts';
import { handlerDeps } from '../shared/deps.ts';
import { drStepHandler } from './step.ts';

const AwaitApprovalInput = z.object({ taskToken: z.string().min(1) });

/** The restore's approval gate (waitForTaskToken): by policy at once, or through an approval run. */
export const handler = drStepHandler('AwaitApproval', async (deps, input, event) => {
  const { taskToken } = AwaitApprovalInput.parse(event);
  return requestRestoreApproval(handlerDeps(), deps, { jobId: input.jobId, correlationId: input.correlationId, taskToken });
});
