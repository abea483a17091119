import * as z from 'zod';
import { requestApproval } from '../../core/runs/request-approval.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';
import { engine, linkSigner, notifier, policy } from '../shared/ports.ts';

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

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/request-approval.ts', { ...RUN_STEP_PARTS, policy, engine, linkSigner, notifier });
