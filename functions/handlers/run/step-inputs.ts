import * as z from 'zod';

/** What every step of statemachines/run.asl.json passes to its function. */
export const RunStepInput = z.object({ runId: z.string().min(1), correlationId: z.string().min(1) });

/** An apply record the workflow carries from ApplyTask to Verify and Finalize (functions/core/runs/applied-record.ts). */
export const DeferredApplyInput = z.object({
  taskIndex: z.number().int().min(0),
  attempt: z.number().int().min(1),
  outcome: z.record(z.string(), z.unknown()),
  appliedAt: z.iso.datetime(),
});

/** What the Apply map's iterations return, in task order (`deferred` null where the apply recorded itself). */
export const AppliedTasksInput = z.array(z.object({ status: z.string(), deferred: DeferredApplyInput.nullable() })).max(1000);

/** The apply records among the Apply map's results. */
export function deferredApplies(applied: z.infer<typeof AppliedTasksInput> | undefined): z.infer<typeof DeferredApplyInput>[] {
  return (applied ?? []).flatMap((task) => (task.deferred ? [task.deferred] : []));
}
