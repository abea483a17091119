import type { ActionCatalog } from '../../actions/catalog.ts';
import type { ActionContext } from '../../actions/contract.ts';
import type { ApprovalDeps } from '../approvals/deps.ts';
import type { SafetyDeps } from '../safety/gates.ts';
import type { LockStore } from '../locks/model.ts';
import type { Run, Task } from './model.ts';
import type { RunRepository, WorkflowEngine } from './ports.ts';

/** What the run workflow's steps need; handlers build it once per process (see handlers/shared/deps.ts). */
export interface RunDeps extends SafetyDeps, ApprovalDeps {
  runs: RunRepository;
  engine: WorkflowEngine;
  catalog: ActionCatalog;
  locks: LockStore;
  /** The resources an action may touch for one task of one run. */
  actionContext(run: Run, task: Task): ActionContext;
  clock(): Date;
  newId(): string;
}
