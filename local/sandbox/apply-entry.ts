import type { TaskPlan } from '../../functions/core/runs/model.ts';
import type { Run, Task } from '../../functions/core/runs/model.ts';
import { loadConfig } from '../../functions/handlers/shared/config.ts';
import { createDeps } from '../../functions/handlers/shared/deps.ts';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';

/**
 * Runs inside the sandbox process (SandboxRunner): builds the handlers' adapters from the configuration
 * its environment carries (configToEnvironment), and applies one task's plan. Only the outcome (or the error) crosses back.
 */
export async function applyInSandbox(input: IsolatedApply): Promise<Record<string, unknown>> {
  const deps = createDeps(loadConfig(process.env));
  const action = deps.catalog.get(input.action, input.actionVersion);
  const run = { id: input.runId, environment: input.environment } as Run;
  const task = { runId: input.runId, index: input.taskIndex, idempotencyKey: input.idempotencyKey } as Task;
  const outcome = await action.apply(input.plan as TaskPlan, deps.actionContext(run, task));
  // Evidence, kept with the outcome, that this apply ran confined: its own process, under the permission model.
  return { ...outcome, isolation: { pid: process.pid, permissionModel: process.permission?.has('fs.write', '/') === false } };
}
