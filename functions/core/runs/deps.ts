import type { ActionCatalog } from '../actions/catalog.ts';
import type { ActionContext } from '../actions/contract.ts';
import type { ApprovalDeps } from '../approvals/deps.ts';
import type { SafetyDeps } from '../safety/gates.ts';
import type { LockStore } from '../locks/model.ts';
import type { Run, Task } from './model.ts';
import type { RunRepository, WorkflowEngine } from './ports.ts';

/** One task's apply, as the action sandbox receives it (plain data only). */
export interface IsolatedApply {
  action: string;
  actionVersion: string;
  plan: unknown;
  runId: string;
  environment: string;
  taskIndex: number;
  idempotencyKey: string;
  timeMs: number;
}

/** What the run workflow's steps need; handlers build it once per process (see handlers/shared/deps.ts). */
export interface RunDeps extends SafetyDeps, ApprovalDeps {
  runs: RunRepository;
  engine: WorkflowEngine;
  catalog: ActionCatalog;
  locks: LockStore;
  /** The resources an action may touch for one task of one run. */
  actionContext(run: Run, task: Task): ActionContext;
  /**
   * Where the apply of an action that reaches the network runs, when it is isolated from this process
   * (the embedded stack's sandbox). @default in-process (in AWS the Lambda function is the sandbox)
   */
  applyIsolated?(input: IsolatedApply): Promise<Record<string, unknown>>;
  clock(): Date;
  newId(): string;
}
