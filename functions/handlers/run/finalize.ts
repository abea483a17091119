import { z } from 'zod';
import { finalizeRun } from '../../core/runs/finalize-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';

const FinalizeInput = RunStepInput.extend({
  result: z.object({ outcome: z.enum(['PLANNED', 'SUCCEEDED', 'ROLLED_BACK', 'FAILED']), error: z.unknown().optional() }),
});

export const handler = stepHandler('Finalize', FinalizeInput, (deps, input) => finalizeRun(deps, input));
