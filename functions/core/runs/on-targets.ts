import type { Action } from '../actions/contract.ts';
import type { RunDeps } from './deps.ts';
import type { Run, Task, TaskPlan } from './model.ts';
import { executeTask } from './task-executor.ts';
import type { TaskExecution, TaskOperation } from './task-executor.ts';

type Operand = Pick<TaskExecution, 'params' | 'plan' | 'outcome' | 'timeMs' | 'attempt'>;

/**
 * Runs one operation of a task's action where it belongs: an action that acts on Maestro's own state
 * (`runsInControlPlane`) here, with the control plane's context; every other one in an executor that
 * holds the managed targets' clients only (in AWS, a function whose role has no grant on Maestro's
 * state, vault or keys). Writes carry the DR quiesce flags, read here just before, as data.
 */
export async function onTargets(deps: RunDeps, run: Run, task: Task, action: Action, operation: TaskOperation, operand: Operand): Promise<unknown> {
  const request: TaskExecution = {
    operation,
    action: action.name,
    actionVersion: action.version,
    runId: run.id,
    environment: run.environment,
    taskIndex: task.index,
    idempotencyKey: task.idempotencyKey,
    ...operand,
  };
  if (action.runsInControlPlane) {
    const ctx = deps.actionContext(run, task);
    return executeTask({ catalog: deps.catalog, targets: () => ctx, clock: deps.clock }, request);
  }
  if (operation === 'apply' || operation === 'rollback') request.quiesceFlags = await deps.quiesceFlags();
  return deps.executor.execute(request);
}

export const planOnTargets = async (deps: RunDeps, run: Run, task: Task, action: Action, params: unknown) =>
  (await onTargets(deps, run, task, action, 'plan', { params })) as TaskPlan;
