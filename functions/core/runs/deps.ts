import type { ActionCatalog } from '../actions/catalog.ts';
import type { ActionContext } from '../actions/contract.ts';
import type { ApprovalDeps } from '../approvals/deps.ts';
import type { SafetyDeps } from '../safety/gates.ts';
import type { LockStore } from '../locks/model.ts';
import type { QuiesceFlag } from '../dr/ports.ts';
import type { Run, Task } from './model.ts';
import type { ApplyReads, RunRepository, WorkflowEngine } from './ports.ts';
import type { TaskExecution, TaskExecutor } from './task-executor.ts';

/** One task's apply, as the action sandbox receives it (plain data only). */
export type IsolatedApply = TaskExecution & { timeMs: number };

/** What the run workflow's steps need; handlers build it once per process (see handlers/shared/deps.ts). */
export interface RunDeps extends SafetyDeps, ApprovalDeps {
  runs: RunRepository;
  engine: WorkflowEngine;
  catalog: ActionCatalog;
  locks: LockStore;
  /**
   * The control plane's own context, for the actions that run in it (`runsInControlPlane`: they act
   * on Maestro's state, e.g. a DR restore's approval). Every other action runs in {@link executor}.
   */
  actionContext(run: Run, task: Task): ActionContext;
  /** Where actions' plan, apply, verify and rollback run: with the managed targets' clients only. */
  executor: TaskExecutor;
  /** The run, its task, the control record and the quiesce flags in one read, for an apply. @default read one by one */
  applyReads?: ApplyReads;
  /** The DR quiesce flags, read fresh (the executors' write guard gets them as data). */
  quiesceFlags(): Promise<QuiesceFlag[]>;
  clock(): Date;
  newId(): string;
}
