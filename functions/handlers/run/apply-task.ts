import * as z from 'zod';
import { applyTask } from '../../core/runs/apply-task.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';
import { actionContext, executor, policy } from '../shared/ports.ts';

const ApplyTaskInput = RunStepInput.extend({ taskIndex: z.number().int().min(0) });

// The step reports the task and run status it read, so the handler reads neither again for its trace and checkpoint.
export const createHandler = stepHandler('ApplyTask', ApplyTaskInput, (deps, input, scope) => applyTask(deps, input, scope), { reportsWhatItRead: true });

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/apply-task.ts', { ...RUN_STEP_PARTS, policy, executor, actionContext });
