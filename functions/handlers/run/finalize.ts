import * as z from 'zod';
import { sealRunHead } from '../../core/audit/seal-run-head.ts';
import { finalizeRun } from '../../core/runs/finalize-run.ts';
import { MAX_TASKS_VERIFIED_AT_FINISH } from '../../core/runs/verify-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { DeferredApplyInput, RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';
import { actionContext } from '../shared/ports.ts';

const FinalizeInput = RunStepInput.extend({
  result: z.object({
    outcome: z.enum(['PLANNED', 'SUCCEEDED', 'ROLLED_BACK', 'FAILED']),
    error: z.unknown().optional(),
    verified: z.array(z.number().int().min(0)).max(MAX_TASKS_VERIFIED_AT_FINISH).optional(),
    applied: z.array(DeferredApplyInput).max(MAX_TASKS_VERIFIED_AT_FINISH).optional(),
  }),
});

export const createHandler = stepHandler(
  'Finalize',
  FinalizeInput,
  async (deps, input, scope) => {
    // Then sign the finished run's audit head into the artifact vault (a replayed Finalize lands here too), beside the locks' release.
    const { status, afterwards: auditHead } = await finalizeRun(deps, input, (head) =>
      sealRunHead({ runs: deps.runs, sealing: deps.auditSealing, clock: deps.clock }, input.runId, { head }),
    );
    // A signed final head is this step's checkpoint: the handler signs nothing more after it (otherwise it tries a checkpoint, as before).
    if (auditHead === 'signed' || auditHead === 'already-signed') scope.anchored();
    return { status, auditHead };
  },
  { reportsWhatItRead: true },
);

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/finalize.ts', { ...RUN_STEP_PARTS, actionContext });
