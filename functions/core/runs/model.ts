/** The run, task and event records (docs/runs-and-actions.md). */
import type { TaskVerdicts } from '../safety/verdicts.ts';

export const RunStatus = {
  PENDING: 'PENDING',
  PLANNING: 'PLANNING',
  PLANNED: 'PLANNED',
  AWAITING_APPROVAL: 'AWAITING_APPROVAL',
  APPLYING: 'APPLYING',
  VERIFYING: 'VERIFYING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  ROLLING_BACK: 'ROLLING_BACK',
  ROLLED_BACK: 'ROLLED_BACK',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
  CANCELLED: 'CANCELLED',
  DENIED: 'DENIED',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

export const RunMode = { PLAN: 'PLAN', APPLY: 'APPLY' } as const;
export type RunMode = (typeof RunMode)[keyof typeof RunMode];

export const TaskStatus = {
  PENDING: 'PENDING',
  PLANNED: 'PLANNED',
  APPLYING: 'APPLYING',
  APPLIED: 'APPLIED',
  VERIFIED: 'VERIFIED',
  FAILED: 'FAILED',
  ROLLED_BACK: 'ROLLED_BACK',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

/** What a plan says a task will do to its resource. */
export interface TaskPlan {
  /** One line for people: "update s3://maestro-demo/hello.txt (12 → 18 bytes)". */
  summary: string;
  change: 'create' | 'update' | 'delete' | 'none' | 'read';
  /** The resource the task acts on, as a URI (`s3://bucket/key`, `dynamodb://table/{key}`). */
  resource: string;
  /** A unified diff of the resource before and after, for review. */
  diff: string;
  /** What apply re-checks before writing (ETag, version, item image): a changed value is a StalePlan. */
  preconditions: Record<string, unknown>;
  /** Action-private data that apply, verify and rollback need. */
  data: Record<string, unknown>;
}

export interface RunError {
  name: string;
  message: string;
  category?: string;
}

export interface Principal {
  id: string;
  roles: readonly string[];
  /** What kind of caller: a person through OIDC, a machine (client credentials), an IAM caller, or a development token. */
  kind?: 'user' | 'machine' | 'iam' | 'dev' | 'agent' | 'trigger';
  /** An agent: the person or service it acts for (an agent never approves). */
  onBehalfOf?: string;
  /** An OIDC caller's email claim: approvers may be listed by subject or by email. */
  email?: string;
  /** Who vouched for the caller: the OIDC issuer URL, `aws-iam`, or `maestro-dev-tokens`. */
  issuer?: string;
}

/** One approver's decision. */
export interface ApprovalDecision {
  by: string;
  decision: 'approve' | 'reject';
  at: string;
  comment?: string;
  /** How it was made: a signed link, or the authenticated API. */
  via: 'link' | 'api';
  /** The identity provider that vouched for the decider (the OIDC issuer, `aws-iam`, `maestro-dev-tokens`, `approval-link`). */
  identityProvider?: string;
  /** The decider's email, when the identity provider gave one. */
  email?: string;
}

/** The approval gate's record on a run: bound to one plan digest, with a quorum and a deadline. */
export interface RunApproval {
  state: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
  /** The plan the approval is bound to: a re-plan voids it. */
  planDigest: string;
  requestedAt: string;
  /** After this the run ends EXPIRED; a reminder goes out at half time. */
  deadline: string;
  approvers: string[];
  quorum: number;
  decisions: ApprovalDecision[];
  /** The workflow's wait token: its SHA-256 and a sealed copy (see approvals/sealed-token.ts), never the clear text. */
  taskTokenHash?: string;
  taskTokenSealed?: string;
  notifiedAt?: string;
  remindedAt?: string;
  decidedBy?: string;
  decidedAt?: string;
  comment?: string;
}

export interface Run {
  id: string;
  goal: string;
  mode: RunMode;
  environment: string;
  status: RunStatus;
  autonomy: number;
  reasonForAccess?: string;
  requestedBy: string;
  /** The requester's roles when the run was asked for: what policy judges at every gate. */
  requesterRoles?: string[];
  approval?: RunApproval;
  /** What screening found in the run's inputs (`injection-suspected`): such a run never applies unattended. */
  inputFlags?: string[];
  /** A cancel asked for while the run was applying: it stops before its next task and rolls back. */
  cancelRequested?: { by: string; reason?: string; at: string };
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  executionArn?: string;
  planDigest?: string;
  /** The digest of a plan already reviewed (an agent's apply_change): planning anything else fails the run with PlanChanged. */
  expectedPlanDigest?: string;
  /** The run was asked for by an agent, acting for this person or service. */
  onBehalfOf?: string;
  taskCount: number;
  error?: RunError;
  /** Sequence number of the last event; every change to the run appends at least one event. */
  eventSeq: number;
  /** Hash of the last event: the head of the run's tamper-evident chain. */
  lastEventHash: string;
  /** A rollback run: the finished run whose applied tasks it undoes. */
  rollbackOf?: string;
  /** The rollback run asked for to undo this run. */
  rolledBackBy?: string;
  /** The run was instantiated from this template version (functions/core/templates). */
  template?: { name: string; version: number };
  /** The run was created by this trigger's firing (functions/core/triggers). */
  trigger?: { id: string; firingKey: string };
  /** The resources the plan locks (core/locks/model.ts lockableResources), recorded with the plan: an apply need not read every task for them. */
  lockResources?: string[];
  /** The run's locks as its last apply took them: their fencing tokens and when their lease runs out (epoch ms). */
  locks?: { tokens: Record<string, number>; leaseExpiresAt: number };
  /** The plan digest that needed no approval when it was planned (recorded with ApprovalNotRequired): the workflow went from Plan straight to Apply. */
  approvedByPolicy?: string;
}

/** The pack a task's action came from, as the catalog had it when the run was created (the built-ins: `builtin`, Maestro's version, `null`). */
export interface TaskPack {
  readonly name: string;
  readonly version: string;
  /** The SHA-256 of the pack's content the configuration pinned; `null` for the built-ins. */
  readonly sha256: string | null;
}

export interface Task {
  runId: string;
  index: number;
  action: string;
  actionVersion: string;
  /** Where the action came from (absent on tasks recorded before packs existed). */
  pack?: TaskPack;
  params: Record<string, unknown>;
  status: TaskStatus;
  attempt: number;
  idempotencyKey: string;
  /** While APPLYING: until when the applier holds the task (renewed while it works; epoch ms). */
  leaseExpiresAt?: number;
  plan?: TaskPlan;
  /** What the task would meet at apply, simulated when it was planned (core/safety/simulate-apply.ts). */
  verdicts?: TaskVerdicts;
  outcome?: Record<string, unknown>;
  error?: RunError;
  updatedAt: string;
}

export const EventLevel = { INFO: 'INFO', WARN: 'WARN', ERROR: 'ERROR' } as const;
export type EventLevel = (typeof EventLevel)[keyof typeof EventLevel];

/** An event before the journal gives it a place in the chain. */
export interface EventDraft {
  type: string;
  level?: EventLevel;
  message: string;
  taskIndex?: number;
  payload?: Record<string, unknown>;
  actor?: string;
}

export interface RunEvent {
  runId: string;
  seq: number;
  type: string;
  level: EventLevel;
  message: string;
  taskIndex?: number;
  payload?: Record<string, unknown>;
  actor?: string;
  correlationId: string;
  ts: string;
  prevHash: string;
  hash: string;
}

export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set([
  RunStatus.SUCCEEDED,
  RunStatus.FAILED,
  RunStatus.ROLLED_BACK,
  RunStatus.REJECTED,
  RunStatus.EXPIRED,
  RunStatus.CANCELLED,
  RunStatus.DENIED,
]);

/** PLANNED is final for a PLAN-mode run once it has been finalized (it then has `finishedAt`). */
export function isFinished(run: Pick<Run, 'status' | 'finishedAt'>): boolean {
  return TERMINAL_STATUSES.has(run.status) || run.finishedAt !== undefined;
}

/** What every task event's payload records of the task's pack: the pack, its version and its pinned content hash. */
export function packPayload(task: Pick<Task, 'pack'>): { pack?: string; packVersion?: string; packSha256?: string | null } {
  return task.pack ? { pack: task.pack.name, packVersion: task.pack.version, packSha256: task.pack.sha256 } : {};
}
