import type { ControlState } from '../control/model.ts';
import type { LockState, PreparedLocks } from '../locks/model.ts';
import type { QuiesceFlag } from '../dr/ports.ts';
import type { EventDraft, Run, RunEvent, RunStatus, Task, TaskStatus } from './model.ts';

/** A change to one run, committed atomically with the events that announce it. */
export interface RunChange {
  /** The run must be in one of these statuses, or the change is refused with InvalidRunTransition. */
  expectStatus?: readonly RunStatus[];
  /**
   * The run must be exactly as read (no event since): for changes computed from the run's current
   * content, which must not be re-applied on top of someone else's. Refused with ConcurrentModification.
   */
  expectEventSeq?: number;
  run?: Partial<Omit<Run, 'id' | 'eventSeq' | 'lastEventHash'>>;
  tasks?: readonly TaskChange[];
  events: readonly EventDraft[];
  /**
   * The run as the caller last read (or committed) it: the change is written on top of it without
   * reading the run again, under the same condition (its event sequence unchanged). Should the run
   * have moved on since, the head is read again and the change re-checked on it, as without.
   */
  head?: Run;
  /**
   * The lock the change's write is fenced by: refused with LeaseLost, in the same transaction, unless
   * the run still holds the lock on `resource` with this token and its lease runs past `now`.
   */
  fence?: { resource: string; fencingToken: number; now: number };
  /**
   * What an apply's gate took as so without reading it, checked in the same transaction (the claim):
   * the kill switch is not engaged (the control record's, or `engagedByDefault` when it has none),
   * and no quiesce flag of these DR targets holds past `now` (ISO time). Refused with
   * ConcurrentModification, `details.changed` naming `killSwitch` or `quiesce`; nothing is written.
   */
  unchanged?: { killSwitch?: { engagedByDefault: boolean }; quiesceTargets?: readonly string[]; now: string };
  /**
   * Locks taken in the same transaction, as the lock store prepared them (every one conditional on the
   * lock as it was read). Refused with ConcurrentModification, `details.changed` `locks`, when any lock
   * changed since; nothing is written. A resource taken here needs no `fence`.
   */
  takeLocks?: PreparedLocks;
  /**
   * Locks the run gives up in the same transaction (Finalize), each only while the run holds it with
   * this fencing token. Refused with ConcurrentModification, `details.changed` `locks`, when it no
   * longer holds one; nothing is written.
   */
  releaseLocks?: { readonly runId: string; readonly tokens: Readonly<Record<string, number>> };
}

export interface TaskChange {
  index: number;
  /** The task must be in one of these statuses, or the change is refused with ConcurrentModification. */
  expectStatus?: readonly TaskStatus[];
  /**
   * Claims the task for one apply: the task must be PLANNED, or APPLYING with a lease that ran out
   * before `now` (its last holder crashed). Refused with DuplicateInFlight while another holds it.
   */
  claim?: { now: number };
  patch: Partial<Omit<Task, 'runId' | 'index'>>;
}

export interface NewRun {
  run: Run;
  tasks: readonly Task[];
  events: readonly EventDraft[];
  /** An Idempotency-Key: a second create with the same key returns the first run. */
  idempotency?: { key: string; requestHash: string };
}

export type CreateRunResult = { created: true; run: Run } | { created: false; runId: string; requestHash: string };

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** Where runs, their tasks and their events live (DynamoDB in both AWS and the embedded stack). */
export interface RunRepository {
  create(newRun: NewRun): Promise<CreateRunResult>;
  get(runId: string): Promise<Run | undefined>;
  /** Extends an applier's lease on its task while it works; false when the task moved on or another attempt holds it. */
  renewTaskLease(runId: string, taskIndex: number, attempt: number, leaseExpiresAt: number): Promise<boolean>;
  /** The run an Idempotency-Key created, with the hash of the request that created it. */
  findByIdempotencyKey(key: string): Promise<{ runId: string; requestHash: string } | undefined>;
  getWithTasks(runId: string): Promise<{ run: Run; tasks: Task[] } | undefined>;
  /** Applies a change under optimistic concurrency and returns the run as it now is. */
  commit(runId: string, change: RunChange): Promise<Run>;
  listEvents(runId: string, options?: { afterSeq?: number; limit?: number }): Promise<Page<RunEvent>>;
  listRuns(options?: { limit?: number; cursor?: string }): Promise<Page<Run>>;
  /** Runs parked at AWAITING_APPROVAL (the approval sweeper and GET /approvals). */
  listAwaitingApproval(): Promise<Run[]>;
  /** How many runs have not finished (admission control). */
  countActive(): Promise<number>;
}

/** What an apply decides on, read together: the run, its task and, where asked for, the control record and the DR quiesce flags. */
export interface ApplySnapshot {
  run: Run;
  task: Task | undefined;
  /** Unset when not asked for (`control: false`). */
  control?: ControlState;
  /** Unset when not asked for (`quiesceFlags: false`). */
  quiesceFlags?: QuiesceFlag[];
  /** The locks of the resources asked for (`locks`), in their order; undefined where never taken. */
  locks?: (LockState | undefined)[];
}

/** Reads an {@link ApplySnapshot} in one consistent round trip (DynamoDB: one TransactGetItems). */
export interface ApplyReads {
  /** The DR targets whose quiesce flags the read covers (the configured ones). */
  readonly quiesceTargets: readonly string[];
  /** `control` and `quiesceFlags` default to true. */
  read(input: {
    runId: string;
    taskIndex: number;
    initialControl: ControlState;
    control?: boolean;
    quiesceFlags?: boolean;
    /** Read the locks of these resources too (what the run's first apply takes). */
    locks?: readonly string[];
  }): Promise<ApplySnapshot | undefined>;
}

/** The workflow engine running `statemachines/run.asl.json` (Step Functions, or the local stand-in). */
export interface WorkflowEngine {
  /** The ARN the run's execution has (executions are named after their run), known before it starts. */
  executionArnOf(runId: string): string;
  /** Starts the run's execution; idempotent by run id. */
  startRun(input: { runId: string; correlationId: string }): Promise<void>;
  stopRun(executionArn: string, reason: string): Promise<void>;
  completeWait(taskToken: string, output: Record<string, unknown>): Promise<void>;
  failWait(taskToken: string, error: string, cause: string): Promise<void>;
  /**
   * Gets a run's stalled workflow going again: a FAILED, TIMED_OUT or ABORTED execution is redriven
   * from where it stopped (RedriveExecution), a missing one is started; a RUNNING one is left alone.
   */
  resumeRun(input: { runId: string; correlationId: string; executionArn: string }): Promise<ResumeOutcome>;
}

export type ResumeOutcome = 'redriven' | 'started' | 'running';
