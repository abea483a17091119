import { describeError } from '../errors.ts';
import type { DrDeps, JobChange } from './ports.ts';
import { BACKUP_STEPS, DRY_RUN_STEPS, DrJobKind, DrJobState, RESTORE_STEPS, RESTORE_TEST_STEPS, RestoreMode } from './model.ts';
import type { DrJob, DrStep, RestoreMode as RestoreModeType } from './model.ts';
import { findTarget } from './targets.ts';

const pendingSteps = (names: readonly string[]): DrStep[] => names.map((name) => ({ name, state: 'PENDING' }));

export interface BackupRequest {
  target: string;
  reason: string;
  requestedBy: string;
  correlationId: string;
}

/** Records a backup job and starts its workflow; the job id is the snapshot id. */
export async function requestBackup(deps: DrDeps, request: BackupRequest): Promise<DrJob> {
  findTarget(deps.targets, request.target);
  const now = deps.clock().toISOString();
  const job: DrJob = {
    id: deps.newId(),
    kind: DrJobKind.backup,
    target: request.target,
    state: DrJobState.PENDING,
    reason: request.reason,
    requestedBy: request.requestedBy,
    correlationId: request.correlationId,
    createdAt: now,
    updatedAt: now,
    steps: pendingSteps(BACKUP_STEPS),
    verified: false,
    version: 0,
    eventSeq: 0,
  };
  await deps.repo.createJob(job, { type: 'BackupRequested', message: `${request.requestedBy} requested a backup of ${request.target}: ${request.reason}` });
  await startOrFail(deps, job.id, () => deps.workflows.startBackup(job.id, request.correlationId));
  return job;
}

export interface RestoreRequest {
  target: string;
  snapshotId?: string;
  manifestVersionId?: string;
  reason: string;
  dryRun: boolean;
  mode: RestoreModeType;
  requestedBy: string;
  correlationId: string;
}

export async function requestRestore(deps: DrDeps, request: RestoreRequest): Promise<DrJob> {
  findTarget(deps.targets, request.target);
  const now = deps.clock().toISOString();
  const steps = request.dryRun ? DRY_RUN_STEPS : request.mode === RestoreMode.test ? RESTORE_TEST_STEPS : RESTORE_STEPS;
  const job: DrJob = {
    id: deps.newId(),
    kind: DrJobKind.restore,
    target: request.target,
    state: DrJobState.PENDING,
    reason: request.reason,
    requestedBy: request.requestedBy,
    correlationId: request.correlationId,
    createdAt: now,
    updatedAt: now,
    steps: pendingSteps(steps),
    verified: false,
    snapshotId: request.snapshotId,
    manifestVersionId: request.manifestVersionId,
    dryRun: request.dryRun,
    mode: request.mode,
    version: 0,
    eventSeq: 0,
  };
  const what = request.snapshotId ? `snapshot ${request.snapshotId}` : `manifest version ${request.manifestVersionId}`;
  const kind = request.dryRun ? 'a restore dry-run' : request.mode === RestoreMode.test ? 'a restore test' : 'a restore';
  await deps.repo.createJob(job, {
    type: 'RestoreRequested',
    message: `${request.requestedBy} requested ${kind} of ${what} into ${request.target}: ${request.reason}`,
  });
  await startOrFail(deps, job.id, () => deps.workflows.startRestore(job.id, request.correlationId));
  return job;
}

/** What a schedule asks for: a backup, or a restore test of the target's newest complete backup. */
export async function runScheduled(
  deps: DrDeps,
  request: { kind: 'backup' | 'restore-test'; target: string; correlationId: string },
): Promise<DrJob | undefined> {
  const reason = `scheduled ${request.kind} of ${request.target}`;
  if (request.kind === 'backup') return requestBackup(deps, { target: request.target, reason, requestedBy: 'scheduler', correlationId: request.correlationId });
  const latest = await deps.repo.latestCompleteBackup(request.target);
  if (!latest) return undefined;
  return requestRestore(deps, {
    target: request.target,
    snapshotId: latest.id,
    reason,
    dryRun: false,
    mode: RestoreMode.test,
    requestedBy: 'scheduler',
    correlationId: request.correlationId,
  });
}

/** Starts the job's workflow; a job whose workflow could not start is recorded FAILED rather than left PENDING. */
async function startOrFail(deps: DrDeps, jobId: string, start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    await finishJob(deps, jobId, { state: DrJobState.FAILED, error }).catch(() => undefined);
    throw error;
  }
}

/** Marks a step running, with the job's new state. */
export function stepStarted(deps: DrDeps, jobId: string, step: string, state: DrJobState | undefined, message: string) {
  const at = deps.clock().toISOString();
  return deps.repo.updateJob(jobId, (job) => ({
    job: { ...(state ? { state } : {}), steps: job.steps.map((s) => (s.name === step ? { ...s, state: 'RUNNING', startedAt: s.startedAt ?? at } : s)) },
    events: [{ type: `${step}Started`, message }],
  }));
}

/** Marks a step done, with whatever the step adds to the job. */
export function stepSucceeded(deps: DrDeps, jobId: string, step: string, message: string, patch: Partial<DrJob> = {}, data?: Record<string, unknown>) {
  const at = deps.clock().toISOString();
  return deps.repo.updateJob(jobId, (job) => ({
    job: {
      ...patch,
      steps: job.steps.map((s) => (s.name === step ? { ...s, state: 'SUCCEEDED', startedAt: s.startedAt ?? at, finishedAt: at, detail: message } : s)),
    },
    events: [{ type: `${step}Succeeded`, message, data }],
  }));
}

/** The workflow's last step: records how the job ended. Steps still running are marked failed, pending ones skipped. */
export async function finishJob(deps: DrDeps, jobId: string, outcome: { state: DrJobState; error?: unknown; message?: string }): Promise<DrJob> {
  const at = deps.clock().toISOString();
  const error = outcome.error === undefined ? undefined : errorSummary(outcome.error);
  return deps.repo.updateJob(jobId, (job): JobChange => {
    if ((['COMPLETE', 'REJECTED', 'FAILED', 'ROLLED_BACK'] as string[]).includes(job.state)) return { job: {}, events: [] };
    return {
      job: {
        state: outcome.state,
        error,
        steps: job.steps.map((s) =>
          s.state === 'RUNNING' ? { ...s, state: 'FAILED', finishedAt: at } : s.state === 'PENDING' ? { ...s, state: 'SKIPPED' } : s,
        ),
      },
      events: [
        {
          type: `Job${outcome.state[0]}${outcome.state
            .slice(1)
            .toLowerCase()
            .replace(/_(.)/g, (_m, c: string) => c.toUpperCase())}`,
          message:
            outcome.message ??
            (error ? `${job.kind.toLowerCase()} ended ${outcome.state}: ${error.name}: ${error.message}` : `${job.kind.toLowerCase()} ended ${outcome.state}`),
        },
      ],
    };
  });
}

/** The error as the workflow's Catch hands it over (`{Error, Cause}`) or as thrown. */
export function errorSummary(error: unknown): { name: string; message: string } {
  if (error && typeof error === 'object' && 'Error' in error) {
    const caught = error as { Error: string; Cause?: string };
    let message = caught.Cause ?? '';
    try {
      const cause = JSON.parse(message) as { errorMessage?: string; message?: string };
      message = cause.errorMessage ?? cause.message ?? message;
    } catch {
      // a plain-text cause
    }
    return { name: caught.Error, message };
  }
  const described = describeError(error);
  return { name: described.name, message: described.message };
}
