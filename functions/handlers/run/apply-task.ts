import { z } from 'zod';
import { applyTask } from '../../core/runs/apply-task.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';

const ApplyTaskInput = RunStepInput.extend({ taskIndex: z.number().int().min(0) });

export const handler = stepHandler('ApplyTask', ApplyTaskInput, (deps, input) => applyTask(deps, input));
