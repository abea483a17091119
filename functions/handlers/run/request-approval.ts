import * as z from 'zod';
import { requestApproval } from '../../core/runs/request-approval.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';

const RequestApprovalInput = RunStepInput.extend({ taskToken: z.string().min(1), planDigest: z.string().min(1) });

export const createHandler = stepHandler(
  'AwaitApproval',
  RequestApprovalInput,
  async (deps, input, scope) => {
    const { statusBefore, statusAfter } = await requestApproval(deps, input);
    scope.status(statusBefore, statusAfter);
    return { requested: true };
  },
  { reportsWhatItRead: true },
);

export const handler = lambdaHandler(createHandler);
