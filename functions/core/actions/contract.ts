import type { z } from 'zod';
import type { RestoreGate } from '../dr/ports.ts';
import type { EgressServices } from '../egress/services.ts';
import type { TaskPlan } from '../runs/model.ts';
import type { ItemStore, ObjectStore, WriteGuard } from './ports.ts';
import type { RemoteActionTransport } from './remote-protocol.ts';
import type { ResourceRef } from './resources.ts';
import type { AlarmReader, AliasStore, ParameterStore } from './target-ports.ts';

export const ActionCategory = { READ: 'READ', WRITE: 'WRITE', DEPLOY: 'DEPLOY', ROLLBACK: 'ROLLBACK' } as const;
export type ActionCategory = (typeof ActionCategory)[keyof typeof ActionCategory];

export const NetworkBudget = { none: 'none', internal: 'internal', internet: 'internet' } as const;
export type NetworkBudget = (typeof NetworkBudget)[keyof typeof NetworkBudget];

export interface ActionSafety {
  category: ActionCategory;
  requiresApproval: boolean;
  budgets: { timeMs: number; network: NetworkBudget };
}

/** What every action call receives: the resources it may touch and who is asking. */
export interface ActionContext {
  objects: ObjectStore;
  items: ItemStore;
  /** Lambda aliases and versions, SSM parameters, CloudWatch alarm states: in executors (the control plane's context has none). */
  aliases?: AliasStore;
  parameters?: ParameterStore;
  alarms?: AlarmReader;
  runId: string;
  taskIndex: number;
  /** Stable across retries and replays of the same task: apply uses it to recognise its own write. */
  idempotencyKey: string;
  /** In apply only: which attempt at the task this is, 1 for the first (workflow retries and replays count). */
  attempt?: number;
  signal?: AbortSignal;
  /** Egress guard, license registry, budgets and breaker for the run's environment (actions that fetch by URL). */
  egress?: EgressServices;
  /** Refuses writes to a target a DR backup holds still (TargetQuiesced); writers call it before they write. */
  writeGuard?: WriteGuard;
  /** Resumes or abandons a DR restore waiting for approval (the `dr.approve-restore` action). */
  restoreGate?: RestoreGate;
  /** The run's environment (remote actions pass it on in their request's context). */
  environment?: string;
  /** How remote actions reach their code (a command, an HTTP endpoint, a Lambda function): core/actions/remote-protocol.ts. */
  remote?: RemoteActionTransport;
}

export interface ActionExample<Params> {
  readonly description: string;
  readonly params: Params;
  /**
   * Resources (URIs) that must exist before the example plans, such as a copy's source object or the
   * item an update changes: the conformance kit writes a value of its own to each before plan.
   * @default none: the example plans against empty resources
   */
  readonly given?: readonly string[];
}

/**
 * The action contract. `plan` has no side effects and records the preconditions that
 * `apply` re-checks; `apply` is idempotent under `ctx.idempotencyKey`; `verify` throws
 * VerificationFailed; `rollback` undoes `apply` from the plan, with or without its outcome (a crash
 * may have left none).
 */
// biome-ignore lint/suspicious/noExplicitAny: the catalog holds actions of every Params; `unknown` would make Action<P> unassignable to it (parameter variance)
export interface Action<Params = any> {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly safety: ActionSafety;
  readonly schema: z.ZodType<Params>;
  /**
   * Every resource the action would read or change for these (parsed) params, computed from the params
   * alone (no I/O): the managed-resources gate checks each against the run's environment before `plan`
   * runs, and Cedar sees each one (core/actions/resources.ts has the URI scheme).
   */
  resources(params: Params): readonly ResourceRef[];
  /** Valid inputs, each with what it shows: for the docs and the conformance kit. */
  readonly examples: readonly ActionExample<Params>[];
  plan(params: Params, ctx: ActionContext): Promise<TaskPlan>;
  apply(plan: TaskPlan, ctx: ActionContext): Promise<Record<string, unknown>>;
  verify(plan: TaskPlan, outcome: Record<string, unknown>, ctx: ActionContext): Promise<void>;
  rollback(plan: TaskPlan, outcome: Record<string, unknown> | undefined, ctx: ActionContext): Promise<void>;
  /**
   * The action confines its own network requests (each in the sandbox) and keeps state across the run's
   * tasks in this process (budgets, circuit breakers): its apply is not isolated as a whole.
   */
  readonly confinesOwnRequests?: boolean;
  /**
   * The action acts on Maestro's own state (a DR restore's approval), not on a managed target: it runs
   * in the control plane's process, with its context, instead of in a target-only executor.
   */
  readonly runsInControlPlane?: boolean;
  /**
   * The action's code runs in a process of its own (a remote action: a command, an HTTP endpoint, a
   * Lambda function), which gets nothing of Maestro's: its apply is not isolated again.
   */
  readonly remote?: boolean;
  /** Called once when the run ends (any status), for actions that must tell something outside the run. */
  onRunEnded?(status: string, plan: TaskPlan | undefined, params: Params, ctx: ActionContext): Promise<void>;
}
