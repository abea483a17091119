import * as z from 'zod';

/** What every step of statemachines/run.asl.json passes to its function. */
export const RunStepInput = z.object({ runId: z.string().min(1), correlationId: z.string().min(1) });
