import { executeTask } from '../../functions/core/runs/task-executor.ts';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';
import { createExecutorDeps } from '../../functions/handlers/run/executor-deps.ts';

/**
 * Runs inside the sandbox process (SandboxRunner): builds an executor's target-only adapters from the
 * environment it was given, and applies one task's plan. Only the outcome (or the error) crosses back.
 */
export async function applyInSandbox(input: IsolatedApply): Promise<Record<string, unknown>> {
  const outcome = (await executeTask(createExecutorDeps(), { ...input, operation: 'apply' })) as Record<string, unknown>;
  // Evidence, kept with the outcome, that this apply ran confined: its own process, under the permission model.
  return { ...outcome, isolation: { pid: process.pid, permissionModel: process.permission?.has('fs.write', '/') === false } };
}
