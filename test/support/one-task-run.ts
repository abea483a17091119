import { randomUUID } from 'node:crypto';
import type { Run, Task } from '../../functions/core/runs/model.ts';
import type { RunRepository } from '../../functions/core/runs/ports.ts';

/** A one-`noop`-task APPLY run in dev, created directly in the repository (no workflow behind it). */
export async function createOneTaskRun(
  repository: Pick<RunRepository, 'create'>,
  options: { goal: string; status?: Run['status'] },
): Promise<{ run: Run; task: Task }> {
  const id = randomUUID();
  const now = new Date().toISOString();
  const run: Run = {
    id,
    goal: options.goal,
    mode: 'APPLY',
    environment: 'dev',
    status: options.status ?? 'PLANNED',
    autonomy: 3,
    requestedBy: 't',
    correlationId: 'c',
    createdAt: now,
    updatedAt: now,
    taskCount: 1,
    eventSeq: 0,
    lastEventHash: '',
  };
  const task: Task = {
    runId: id,
    index: 0,
    action: 'noop',
    actionVersion: '1.0.0',
    params: {},
    status: 'PLANNED',
    attempt: 0,
    idempotencyKey: 'k',
    updatedAt: now,
  };
  const created = await repository.create({ run, tasks: [task], events: [{ type: 'RunCreated', message: 'created' }] });
  if (!created.created) throw new Error('not created');
  return { run: created.run, task };
}
