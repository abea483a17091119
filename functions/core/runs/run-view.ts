import type { Run, RunEvent, Task } from './model.ts';

/** A run as the API shows it: the record, and its tasks with their plans' public parts. */
export function runView(run: Run, tasks?: readonly Task[]) {
  const { eventSeq, lastEventHash, ...visible } = run;
  return {
    ...visible,
    eventCount: eventSeq,
    auditHead: lastEventHash,
    ...(tasks
      ? {
          tasks: tasks.map((task) => ({
            index: task.index,
            action: task.action,
            actionVersion: task.actionVersion,
            params: task.params,
            status: task.status,
            attempt: task.attempt,
            idempotencyKey: task.idempotencyKey,
            plan: task.plan
              ? { summary: task.plan.summary, change: task.plan.change, resource: task.plan.resource, diff: task.plan.diff, preconditions: task.plan.preconditions }
              : undefined,
            outcome: task.outcome,
            error: task.error,
            updatedAt: task.updatedAt,
          })),
        }
      : {}),
  };
}

export function eventView(event: RunEvent) {
  const { runId, ...visible } = event;
  return visible;
}
