import * as z from 'zod';
import { applyTask } from '../../core/runs/apply-task.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';

const ApplyTaskInput = RunStepInput.extend({ taskIndex: z.number().int().min(0) });

export const createHandler = stepHandler('ApplyTask', ApplyTaskInput, (deps, input) => applyTask(deps, input));

export const handler = lambdaHandler(createHandler);
