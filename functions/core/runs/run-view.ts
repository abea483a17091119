import type { Run, RunEvent, Task } from './model.ts';

/** A run as the API shows it: the record, and its tasks with their plans' public parts. */
export function runView(run: Run, tasks?: readonly Task[]) {
  return {
    id: run.id,
    status: run.status,
    goal: run.goal,
    mode: run.mode,
    environment: run.environment,
    autonomy: run.autonomy,
    reasonForAccess: run.reasonForAccess,
    requestedBy: run.requestedBy,
    correlationId: run.correlationId,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    updatedAt: run.updatedAt,
    planDigest: run.planDigest,
    expectedPlanDigest: run.expectedPlanDigest,
    onBehalfOf: run.onBehalfOf,
    // The wait token never leaves the server.
    approval: run.approval ? { ...run.approval, taskToken: undefined } : undefined,
    requesterRoles: run.requesterRoles,
    inputFlags: run.inputFlags,
    error: run.error,
    executionArn: run.executionArn,
    taskCount: run.taskCount,
    rollbackOf: run.rollbackOf,
    rolledBackBy: run.rolledBackBy,
    template: run.template,
    trigger: run.trigger,
    eventCount: run.eventSeq,
    auditHead: run.lastEventHash,
    ...(tasks
      ? {
          tasks: tasks.map((task) => ({
            index: task.index,
            action: task.action,
            actionVersion: task.actionVersion,
            pack: task.pack,
            params: task.params,
            status: task.status,
            attempt: task.attempt,
            idempotencyKey: task.idempotencyKey,
            plan: task.plan
              ? {
                  summary: task.plan.summary,
                  change: task.plan.change,
                  resource: task.plan.resource,
                  diff: task.plan.diff,
                  preconditions: task.plan.preconditions,
                }
              : undefined,
            verdicts: task.verdicts,
            outcome: task.outcome,
            error: task.error,
            updatedAt: task.updatedAt,
          })),
        }
      : {}),
  };
}

export function eventView(event: RunEvent) {
  return {
    seq: event.seq,
    ts: event.ts,
    type: event.type,
    level: event.level,
    message: event.message,
    taskIndex: event.taskIndex,
    actor: event.actor,
    payload: event.payload,
    correlationId: event.correlationId,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}
