import * as z from 'zod';
import { ActionCategory } from '../actions/contract.ts';
import { InvalidRunTransition, RunNotFound, ValidationFailed } from '../errors.ts';
import { parseOrThrow } from '../validation.ts';
import { createRun } from './create-run.ts';
import type { CreateRunResult } from './create-run.ts';
import type { RunDeps } from './deps.ts';
import { RunMode, RunStatus, TaskStatus, isFinished } from './model.ts';
import type { Principal } from './model.ts';
import { checkReasonForAccess } from '../safety/reason-for-access.ts';

/** The action a rollback run's tasks run (functions/actions/run-undo-task.ts). */
export const UNDO_TASK_ACTION = 'run.undo-task';

export const RollbackRequest = z.strictObject({ reason: z.string().max(1000).optional() });

/** A rollback run that ended without changing anything does not hold the original: it may be asked for again. */
const ENDED_UNAPPLIED: ReadonlySet<string> = new Set([RunStatus.DENIED, RunStatus.REJECTED, RunStatus.EXPIRED, RunStatus.CANCELLED, RunStatus.FAILED]);

/**
 * POST /runs/{id}/rollback: a new APPLY run whose tasks undo the original's applied tasks, last first.
 * It goes through the same workflow as any run: planned first (each undo's diff is current → restored,
 * and a resource changed since the original run is refused as StalePlan), then every gate — reason
 * for access, policy, autonomy (ROLLBACK applies unattended only at autonomy 3), approvals. The two
 * runs point at each other (`rollbackOf`, `rolledBackBy`).
 */
export async function createRollbackRun(
  deps: RunDeps,
  input: { runId: string; body: unknown; principal: Principal; correlationId: string },
): Promise<CreateRunResult & { rollbackOf: string }> {
  const request = parseOrThrow(RollbackRequest, input.body ?? {});
  // A rollback changes things: the same reason-for-access rule as any privileged run, named as this body names it.
  let reason: string;
  try {
    reason = checkReasonForAccess(request.reason, deps.guardrails.reasonForAccess.minLength);
  } catch (error) {
    throw new ValidationFailed((error as Error).message.replace('reasonForAccess', 'reason'), { field: 'reason' });
  }
  const found = await deps.runs.getWithTasks(input.runId);
  if (!found) throw new RunNotFound(`run ${input.runId} does not exist`, { field: 'id' });
  const { run: original, tasks } = found;
  if (original.mode !== RunMode.APPLY || original.status !== RunStatus.SUCCEEDED || !isFinished(original)) {
    throw new InvalidRunTransition(`run ${original.id} is ${original.mode} ${original.status}; only a SUCCEEDED APPLY run can be rolled back`, {
      field: 'id',
    });
  }
  if (original.rollbackOf) {
    // Allowed in principle, but its tasks are undos, which are not themselves undoable.
    throw new InvalidRunTransition(`run ${original.id} is itself a rollback (of ${original.rollbackOf}); it cannot be rolled back`, { field: 'id' });
  }
  if (original.rolledBackBy) {
    const earlier = await deps.runs.get(original.rolledBackBy);
    if (earlier && !ENDED_UNAPPLIED.has(earlier.status)) {
      throw new InvalidRunTransition(`run ${original.id} is already being rolled back by run ${earlier.id} (${earlier.status})`, { field: 'id' });
    }
  }

  const undoable = tasks
    .filter((task) => (task.status === TaskStatus.APPLIED || task.status === TaskStatus.VERIFIED) && task.plan)
    .filter((task) => task.plan!.change === 'create' || task.plan!.change === 'update' || task.plan!.change === 'delete')
    .filter((task) => deps.catalog.get(task.action, task.actionVersion).safety.category !== ActionCategory.READ)
    .reverse();
  if (undoable.length === 0) throw new ValidationFailed(`run ${original.id} changed nothing, so there is nothing to roll back`, { field: 'id' });

  const rollbackId = deps.newId();
  // The link first, bound to the original as read: of two concurrent requests, one wins.
  await deps.runs.commit(original.id, {
    expectStatus: [RunStatus.SUCCEEDED],
    expectEventSeq: original.eventSeq,
    run: { rolledBackBy: rollbackId },
    events: [
      {
        type: 'RollbackRequested',
        level: 'WARN',
        actor: input.principal.id,
        message: `${input.principal.id} asked to roll this run back (run ${rollbackId}): ${reason}`,
        payload: { rollbackRunId: rollbackId, reason: reason, tasks: undoable.map((task) => task.index) },
      },
    ],
  });
  const result = await createRun(deps, {
    body: {
      goal: `roll back run ${original.id}: ${original.goal}`.slice(0, 500),
      mode: RunMode.APPLY,
      environment: original.environment,
      reasonForAccess: reason,
      tasks: undoable.map((task) => ({
        action: UNDO_TASK_ACTION,
        params: {
          of: { runId: original.id, taskIndex: task.index },
          action: task.action,
          resource: task.plan!.resource,
          change: task.plan!.change,
          data: task.plan!.data,
          outcome: task.outcome ?? {},
        },
      })),
    },
    principal: input.principal,
    correlationId: input.correlationId,
    rollback: { runId: rollbackId, of: original.id },
  });
  return { ...result, rollbackOf: original.id };
}
