import type { Action } from '../actions/contract.ts';
import { ActionFailed, PackIntegrityError } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import type { Run, Task, TaskPlan } from './model.ts';
import { executeAll, executeTask, settle } from './task-executor.ts';
import type { Settled, TaskExecution, TaskOperation } from './task-executor.ts';

type Operand = Pick<TaskExecution, 'params' | 'plan' | 'outcome' | 'timeMs' | 'attempt' | 'quiesceFlags'>;

/**
 * Runs one operation of a task's action where it belongs: an action that acts on Maestro's own state
 * (`runsInControlPlane`) here, with the control plane's context; every other one in an executor that
 * holds the managed targets' clients only (in AWS, a function whose role has no grant on Maestro's
 * state, vault or keys). Writes carry the DR quiesce flags, read here just before, as data.
 */
export async function onTargets(deps: RunDeps, run: Run, task: Task, action: Action, operation: TaskOperation, operand: Operand): Promise<unknown> {
  const request = requestOf(run, task, action, operation, operand);
  assertSamePack(deps, task, action, operation);
  if (action.runsInControlPlane) {
    const ctx = deps.actionContext(run, task);
    return executeTask({ catalog: deps.catalog, targets: () => ctx, clock: deps.clock }, request);
  }
  // The caller may have read the flags with the rest of its snapshot (an apply); otherwise they are read now.
  if (operation === 'apply' || operation === 'rollback') request.quiesceFlags = operand.quiesceFlags ?? (await deps.quiesceFlags());
  return deps.executor.execute(request);
}

/** One task's read operation in a batch. */
export interface BatchedOperation {
  task: Task;
  action: Action;
  operand: Pick<Operand, 'params' | 'plan' | 'outcome'>;
}

/**
 * The same operation (plan or verify) of several tasks of a run: those of executor actions in one
 * batch (one call per executor function, see TaskExecutor.executeBatch), those acting on Maestro's own
 * state here. Each task is settled on its own, in order: a failing one (its pack re-pinned, its action
 * refusing) fails alone, and the caller records what it records for one task today.
 */
export async function onTargetsBatch(deps: RunDeps, run: Run, operation: 'plan' | 'verify', operations: readonly BatchedOperation[]): Promise<Settled[]> {
  const settled: Settled[] = new Array(operations.length);
  const sent: { at: number; request: TaskExecution }[] = [];
  for (const [at, { task, action, operand }] of operations.entries()) {
    if (action.runsInControlPlane) {
      settled[at] = await settle(() => onTargets(deps, run, task, action, operation, operand));
      continue;
    }
    try {
      assertSamePack(deps, task, action, operation);
      sent.push({ at, request: requestOf(run, task, action, operation, operand) });
    } catch (error) {
      settled[at] = { ok: false, error };
    }
  }
  const answers = await executeAll(
    deps.executor,
    sent.map(({ request }) => request),
  );
  for (const [index, { at }] of sent.entries())
    settled[at] = answers[index] ?? { ok: false, error: new ActionFailed('the executor gave no answer for this task') };
  return settled;
}

function requestOf(run: Run, task: Task, action: Action, operation: TaskOperation, operand: Operand): TaskExecution {
  return {
    operation,
    action: action.name,
    actionVersion: action.version,
    runId: run.id,
    environment: run.environment,
    taskIndex: task.index,
    idempotencyKey: task.idempotencyKey,
    ...operand,
  };
}

export const planOnTargets = async (deps: RunDeps, run: Run, task: Task, action: Action, params: unknown) =>
  (await onTargets(deps, run, task, action, 'plan', { params })) as TaskPlan;

/**
 * A task runs with the pack content it was created with: a catalog whose pack for the action has
 * another content hash (re-pinned between plan and apply) refuses with PackIntegrityError, naming both.
 * Rollback is the exception: undoing a change that was made must stay possible whatever was re-pinned.
 */
function assertSamePack(deps: RunDeps, task: Task, action: Action, operation: TaskOperation): void {
  if (!task.pack || operation === 'rollback') return;
  const current = deps.catalog.packOf(action.name);
  if (current.name === task.pack.name && current.sha256 === task.pack.sha256) return;
  throw new PackIntegrityError(
    `${action.name} was planned with pack ${task.pack.name} at sha256 ${task.pack.sha256}, but the catalog now has pack ${current.name} at sha256 ${current.sha256}: create a new run to use it`,
    { field: `tasks[${task.index}].action`, details: { expected: task.pack, actual: current } },
  );
}
