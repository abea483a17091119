/**
 * Maestro's errors are values with names. The `name` is an API: the ASL's Retry/Catch match on it,
 * the HTTP layer maps it to a stable `code` and status, and the audit trail records it.
 *
 * Each class writes its name as a literal (`override readonly name = 'TransientError'`), never derived
 * from the class: the Lambda bundles are minified, and a minifier renames classes. A new class copies
 * the pattern; test/core/error-names.test.ts fails when the literal differs from the class name.
 */

/** The small, documented set every failure belongs to; it decides retries and shows in metrics. */
export const ErrorCategory = {
  validation: 'validation',
  policy: 'policy',
  safety: 'safety',
  transient: 'transient',
  dependency: 'dependency',
  conflict: 'conflict',
  internal: 'internal',
} as const;
export type ErrorCategory = (typeof ErrorCategory)[keyof typeof ErrorCategory];

export interface MaestroErrorOptions {
  /** The request field the error is about, in `tasks[0].params.bucket` form. */
  field?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class MaestroError extends Error {
  /** The error's identity (ASL ErrorEquals, API code, audit): every subclass overrides it with its own literal. */
  override readonly name: string = 'MaestroError';
  /** HTTP status when this error reaches the API. */
  readonly status: number = 500;
  readonly category: ErrorCategory = ErrorCategory.internal;
  readonly field?: string;
  readonly details?: Record<string, unknown>;

  constructor(message: string, options: MaestroErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.field = options.field;
    this.details = options.details;
  }

  /** The stable code callers see: the error's name, by design. */
  get code(): string {
    return this.name;
  }
}

export class ValidationFailed extends MaestroError {
  override readonly name = 'ValidationFailed';
  override readonly status = 400;
  override readonly category = ErrorCategory.validation;
}
export class InvalidJson extends MaestroError {
  override readonly name = 'InvalidJson';
  override readonly status = 400;
  override readonly category = ErrorCategory.validation;
}
export class PayloadTooLarge extends MaestroError {
  override readonly name = 'PayloadTooLarge';
  override readonly status = 413;
  override readonly category = ErrorCategory.validation;
}
export class UnsupportedMediaType extends MaestroError {
  override readonly name = 'UnsupportedMediaType';
  override readonly status = 415;
  override readonly category = ErrorCategory.validation;
}
export class UnknownAction extends MaestroError {
  override readonly name = 'UnknownAction';
  override readonly status = 400;
  override readonly category = ErrorCategory.validation;
}
/** A configured pack whose module or actions break the contract (start-up refuses it, naming the field: `packs[0].actions[1].version`). */
export class PackInvalid extends MaestroError {
  override readonly name = 'PackInvalid';
  override readonly status = 500;
  override readonly category = ErrorCategory.validation;
}
/** A configured pack whose content does not hash to the SHA-256 the configuration pins (start-up refuses it, naming both hashes). */
export class PackIntegrityError extends MaestroError {
  override readonly name = 'PackIntegrityError';
  override readonly status = 500;
  override readonly category = ErrorCategory.safety;
}
export class ActionNotFound extends MaestroError {
  override readonly name = 'ActionNotFound';
  override readonly status = 404;
  override readonly category = ErrorCategory.validation;
}
export class RouteNotFound extends MaestroError {
  override readonly name = 'RouteNotFound';
  override readonly status = 404;
  override readonly category = ErrorCategory.validation;
}
export class MethodNotAllowed extends MaestroError {
  override readonly name = 'MethodNotAllowed';
  override readonly status = 405;
  override readonly category = ErrorCategory.validation;
}
export class RunNotFound extends MaestroError {
  override readonly name = 'RunNotFound';
  override readonly status = 404;
  override readonly category = ErrorCategory.validation;
}
export class Unauthenticated extends MaestroError {
  override readonly name = 'Unauthenticated';
  override readonly status = 401;
  override readonly category = ErrorCategory.policy;
}
export class Forbidden extends MaestroError {
  override readonly name = 'Forbidden';
  override readonly status = 403;
  override readonly category = ErrorCategory.policy;
}
/** The same Idempotency-Key was sent with a different body. */
export class IdempotencyKeyReused extends MaestroError {
  override readonly name = 'IdempotencyKeyReused';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** The run is not in a status that allows the requested step (a replay, a race, or a cancel). */
export class InvalidRunTransition extends MaestroError {
  override readonly name = 'InvalidRunTransition';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
export class RunAlreadyFinished extends MaestroError {
  override readonly name = 'RunAlreadyFinished';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
export class RunCancelled extends MaestroError {
  override readonly name = 'RunCancelled';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/**
 * A run asked to apply a plan already reviewed (`expectedPlanDigest`) planned something else: it
 * stops before any gate or apply. `details` names both digests.
 */
export class PlanChanged extends MaestroError {
  override readonly name = 'PlanChanged';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** What the plan read has changed since: applying would overwrite someone else's change. */
export class StalePlan extends MaestroError {
  override readonly name = 'StalePlan';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** Another writer changed the same record between our read and our write; retrying may succeed. */
export class ConcurrentModification extends MaestroError {
  override readonly name = 'ConcurrentModification';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
export class VerificationFailed extends MaestroError {
  override readonly name = 'VerificationFailed';
  override readonly status = 422;
  override readonly category = ErrorCategory.safety;
}
/** An action reported a failure of its own (a missing bucket, a refused write...). */
export class ActionFailed extends MaestroError {
  override readonly name = 'ActionFailed';
  override readonly status = 422;
  override readonly category = ErrorCategory.dependency;
}
/** A progressive deploy saw a watched alarm in ALARM: it moved the traffic back and stopped (details: alarm, state, reason, step). */
export class DeploymentAlarm extends MaestroError {
  override readonly name = 'DeploymentAlarm';
  override readonly status = 422;
  override readonly category = ErrorCategory.safety;
}
/**
 * A remote action (a team's command, HTTP endpoint or Lambda function speaking maestro.action/v1)
 * answered something the protocol does not allow: not JSON, the wrong shape, too big, too late, a
 * non-zero exit, an HTTP error or a function error. `details.reason` says which; nothing it said is trusted.
 */
export class ActionProtocolError extends MaestroError {
  override readonly name = 'ActionProtocolError';
  override readonly status = 502;
  override readonly category = ErrorCategory.dependency;
}
/** A dependency was briefly unavailable (throttling, a 5xx, a network blip): the workflow retries it. */
export class TransientError extends MaestroError {
  override readonly name = 'TransientError';
  override readonly status = 503;
  override readonly category = ErrorCategory.transient;
}
/** A task token that is unknown, already used or timed out: the wait it belonged to is over. */
export class TaskTokenInvalid extends MaestroError {
  override readonly name = 'TaskTokenInvalid';
  override readonly status = 410;
  override readonly category = ErrorCategory.conflict;
}
export class WorkflowUnavailable extends MaestroError {
  override readonly name = 'WorkflowUnavailable';
  override readonly status = 503;
  override readonly category = ErrorCategory.dependency;
}

// --- egress and sandbox ---
/** A URL (or a redirect hop) the egress guard refuses: scheme, credentials, host, port or address. */
export class SsrfBlocked extends MaestroError {
  override readonly name = 'SsrfBlocked';
  override readonly status = 403;
  override readonly category = ErrorCategory.safety;
}
/** The source is not in the license registry, or its terms do not allow this use. */
export class LicenseDenied extends MaestroError {
  override readonly name = 'LicenseDenied';
  override readonly status = 403;
  override readonly category = ErrorCategory.policy;
}
/** A byte, time or request budget (per task or per run) is spent. */
export class BudgetExceeded extends MaestroError {
  override readonly name = 'BudgetExceeded';
  override readonly status = 429;
  override readonly category = ErrorCategory.safety;
}
/** The host's circuit breaker is open after repeated failures; no request was sent. */
export class CircuitOpen extends MaestroError {
  override readonly name = 'CircuitOpen';
  override readonly status = 503;
  override readonly category = ErrorCategory.dependency;
}
/** A sandboxed action broke its confinement (file system, process, memory or time) and was stopped. */
export class SandboxViolation extends MaestroError {
  override readonly name = 'SandboxViolation';
  override readonly status = 422;
  override readonly category = ErrorCategory.safety;
}
/** Text that feeds a plan looks like instructions to the planner (prompt injection); policy decides. */
export class InjectionSuspected extends MaestroError {
  override readonly name = 'InjectionSuspected';
  override readonly status = 422;
  override readonly category = ErrorCategory.safety;
}
/** Cedar policy refused the request; `details.policyIds` names the policies that decided. */
export class PolicyDenied extends MaestroError {
  override readonly name = 'PolicyDenied';
  override readonly status = 403;
  override readonly category = ErrorCategory.policy;
}
/**
 * A task names a resource its run's environment does not declare in `managedResources` (or one of
 * Maestro's own): refused before the action's plan reads anything. `details.resource` names it.
 */
export class ResourceNotManaged extends MaestroError {
  override readonly name = 'ResourceNotManaged';
  override readonly status = 403;
  override readonly category = ErrorCategory.policy;
}
/** The kill switch is engaged: nothing applies until an admin releases it. */
export class KillSwitchEngaged extends MaestroError {
  override readonly name = 'KillSwitchEngaged';
  override readonly status = 423;
  override readonly category = ErrorCategory.safety;
}
/** The task needs more autonomy than the run has, and no human approved the plan. */
export class AutonomyExceeded extends MaestroError {
  override readonly name = 'AutonomyExceeded';
  override readonly status = 403;
  override readonly category = ErrorCategory.safety;
}
/** An approver said no. */
export class ApprovalRejected extends MaestroError {
  override readonly name = 'ApprovalRejected';
  override readonly status = 409;
  override readonly category = ErrorCategory.policy;
}

// --- disaster recovery ---
/** A DR backup holds the target still: writers are refused until it lifts (bounded time). */
export class TargetQuiesced extends MaestroError {
  override readonly name = 'TargetQuiesced';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
export class DrTargetNotFound extends MaestroError {
  override readonly name = 'DrTargetNotFound';
  override readonly status = 404;
  override readonly category = ErrorCategory.validation;
}
export class DrJobNotFound extends MaestroError {
  override readonly name = 'DrJobNotFound';
  override readonly status = 404;
  override readonly category = ErrorCategory.validation;
}
/** Another DR job holds the target (a backup in progress, a pointer flipped meanwhile). */
export class DrTargetBusy extends MaestroError {
  override readonly name = 'DrTargetBusy';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** The artifact does not prove itself: bad signature, wrong key, a part missing or with another hash. */
export class ArtifactRejected extends MaestroError {
  override readonly name = 'ArtifactRejected';
  override readonly status = 422;
  override readonly category = ErrorCategory.safety;
}
/** The restored copy failed a smoke test (count, content hash, sample read). */
export class SmokeTestFailed extends MaestroError {
  override readonly name = 'SmokeTestFailed';
  override readonly status = 422;
  override readonly category = ErrorCategory.safety;
}
/** The snapshot outlived the quiesce window; the backup stops rather than copy a moving target. */
export class QuiesceExpired extends MaestroError {
  override readonly name = 'QuiesceExpired';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** The job is not in a state that allows the request (a rollback of a restore that never flipped...). */
export class DrInvalidTransition extends MaestroError {
  override readonly name = 'DrInvalidTransition';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}

/** Too many requests for a principal or an action; `details.retryAfterSeconds` says when to try again. */
export class RateLimited extends MaestroError {
  override readonly name = 'RateLimited';
  override readonly status = 429;
  override readonly category = ErrorCategory.safety;
}
/** A change freeze is on for the environment and no admin override is on record. */
export class ChangeFreeze extends MaestroError {
  override readonly name = 'ChangeFreeze';
  override readonly status = 423;
  override readonly category = ErrorCategory.safety;
}
/** The run would change more than the blast-radius caps allow (tasks, deletes). */
export class BlastRadiusExceeded extends MaestroError {
  override readonly name = 'BlastRadiusExceeded';
  override readonly status = 400;
  override readonly category = ErrorCategory.safety;
}

/** Another run holds a resource this run needs; the run waits in line (the workflow retries). */
export class ResourceLocked extends MaestroError {
  override readonly name = 'ResourceLocked';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** The run's lock on a resource expired or passed to another run: it must not write. */
export class LeaseLost extends MaestroError {
  override readonly name = 'LeaseLost';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** Too many runs are active; `details.retryAfterSeconds` says when to try again. */
export class RunsAtCapacity extends MaestroError {
  override readonly name = 'RunsAtCapacity';
  override readonly status = 429;
  override readonly category = ErrorCategory.safety;
}

/** The approval's deadline passed: the run ends EXPIRED, nothing applied. */
export class ApprovalExpired extends MaestroError {
  override readonly name = 'ApprovalExpired';
  override readonly status = 410;
  override readonly category = ErrorCategory.policy;
}
/** The plan changed after the approval was requested or given: the approval no longer counts. */
export class ApprovalVoid extends MaestroError {
  override readonly name = 'ApprovalVoid';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** This approver already decided on this run. */
export class AlreadyDecided extends MaestroError {
  override readonly name = 'AlreadyDecided';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** An approval link that is forged, expired, malformed or already used. */
export class ApprovalLinkRefused extends MaestroError {
  override readonly name = 'ApprovalLinkRefused';
  override readonly status = 403;
  override readonly category = ErrorCategory.policy;
}

/** Another invocation is applying the same task under a live lease; the workflow retries after it. */
export class DuplicateInFlight extends MaestroError {
  override readonly name = 'DuplicateInFlight';
  override readonly status = 409;
  override readonly category = ErrorCategory.transient;
}

/** A template name (or version) that no template has. */
export class TemplateNotFound extends MaestroError {
  override readonly name = 'TemplateNotFound';
  override readonly status = 404;
  override readonly category = ErrorCategory.validation;
}
/** A trigger id that no trigger has. */
export class TriggerNotFound extends MaestroError {
  override readonly name = 'TriggerNotFound';
  override readonly status = 404;
  override readonly category = ErrorCategory.validation;
}
/** A trigger id already taken (by maestro.config.yaml or an earlier POST /triggers). */
export class TriggerExists extends MaestroError {
  override readonly name = 'TriggerExists';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** A webhook delivery whose signature or timestamp does not hold: nothing is written. */
export class WebhookRefused extends MaestroError {
  override readonly name = 'WebhookRefused';
  override readonly status = 401;
  override readonly category = ErrorCategory.policy;
}

/** What the API answers for anything unexpected (a 500): the code, never the message, reaches the caller. */
export class InternalError extends MaestroError {
  override readonly name = 'InternalError';
}

/** No drift finding has this id (GET /drift/{id}, POST /drift/{id}/remediate). */
export class DriftFindingNotFound extends MaestroError {
  override readonly name = 'DriftFindingNotFound';
  override readonly status = 404;
  override readonly category = ErrorCategory.validation;
}
/** The finding is not OPEN (resolved, or claimed by a remediation still being created). */
export class DriftNotRemediable extends MaestroError {
  override readonly name = 'DriftNotRemediable';
  override readonly status = 409;
  override readonly category = ErrorCategory.conflict;
}
/** No subscription has this id (GET/DELETE /subscriptions/{id}). */
export class SubscriptionNotFound extends MaestroError {
  override readonly name = 'SubscriptionNotFound';
  override readonly status = 404;
  override readonly category = ErrorCategory.validation;
}

/** Errors whose message is safe to show a client. Anything else becomes a generic 500. */
/** A plain, serializable summary of any error, for events and the workflow's Catch payloads. */
export function describeError(error: unknown): { name: string; message: string; category: ErrorCategory } {
  if (error instanceof MaestroError) return { name: error.name, message: error.message, category: error.category };
  if (error instanceof Error) return { name: error.name, message: error.message, category: ErrorCategory.internal };
  return { name: 'Error', message: String(error), category: ErrorCategory.internal };
}
