import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { drJobView, toServerSentEvents } from '../../core/dr/job-view.ts';
import { requestBackup, requestRestore } from '../../core/dr/jobs.ts';
import { FINISHED_DR_STATES, RestoreMode } from '../../core/dr/model.ts';
import { liveCopy } from '../../core/dr/pointer.ts';
import { rollBackRestore } from '../../core/dr/restore.ts';
import { findTarget } from '../../core/dr/targets.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { awaitFinishedJob, loadJob } from '../../core/dr/await-job.ts';
import { headerValue } from './authenticate.ts';
import { json, readJsonBody } from './http.ts';
import type { OperationRequest } from './operation-request.ts';

const TargetName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a DR target name');
const Reason = z.string().trim().min(1, 'must say why').max(500);
export const BackupBody = z.strictObject({ target: TargetName, reason: Reason });
export const RestoreBody = z
  .strictObject({
    target: TargetName,
    snapshotId: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a snapshot id')
      .optional(),
    manifestVersionId: z.string().min(1).max(1024).optional(),
    reason: Reason,
    dryRun: z.boolean().default(false),
    /** TEST: restore into an isolated copy, smoke-test, record signed evidence, clean up; never flips. */
    mode: z.enum(['RESTORE', 'TEST']).default('RESTORE'),
  })
  .refine((body) => Boolean(body.snapshotId) !== Boolean(body.manifestVersionId), {
    message: 'give exactly one of snapshotId or manifestVersionId',
    path: ['snapshotId'],
  });
export const IdPath = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a DR job id') });
export const JobIdPath = z.object({ jobId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a DR job id') });
export const TargetPath = z.object({ target: TargetName });
export const EventsQuery = z.strictObject({
  afterSeq: z.coerce.number().int().min(0).optional(),
  /** How long to hold the response open for a job still running (API Gateway buffers: this is long polling, not a live stream). */
  waitSeconds: z.coerce.number().int().min(0).max(25).default(20),
});
export const LastEventId = z.coerce.number().int().min(0).optional();

const statusUrl = (id: string) => `/dr/status/${id}`;

/** Disaster recovery: backups, restores, their status and events, the traffic pointer. */
export const drOperations = {
  /** POST /dr/backup (operator): quiesce, snapshot, sign, store; 202 with the snapshot id. */
  async drBackup({ event, deps, principal, correlationId }: OperationRequest) {
    requireRole(principal, Role.operator, Role.admin);
    const body = parseOrThrow(BackupBody, readJsonBody(event));
    const job = await requestBackup(deps.dr, { target: body.target, reason: body.reason, requestedBy: principal.id, correlationId });
    return json(202, { snapshotId: job.id, statusUrl: statusUrl(job.id) }, { location: statusUrl(job.id) });
  },

  /** POST /dr/restore (operator): stage, apply into a new copy, validate, flip; 202 with the job id. */
  async drRestore({ event, deps, principal, correlationId }: OperationRequest) {
    requireRole(principal, Role.operator, Role.admin);
    const body = parseOrThrow(RestoreBody, readJsonBody(event));
    const job = await requestRestore(deps.dr, {
      target: body.target,
      snapshotId: body.snapshotId,
      manifestVersionId: body.manifestVersionId,
      reason: body.reason,
      dryRun: body.dryRun,
      mode: body.mode === 'TEST' ? RestoreMode.test : RestoreMode.restore,
      requestedBy: principal.id,
      correlationId,
    });
    return json(202, { jobId: job.id, statusUrl: statusUrl(job.id) }, { location: statusUrl(job.id) });
  },

  /** POST /dr/restore/{jobId}/rollback (operator): flip the pointer back to the copy live before the restore. */
  async drRollback({ event, deps, principal }: OperationRequest) {
    requireRole(principal, Role.operator, Role.admin);
    const { jobId } = parseOrThrow(JobIdPath, event.pathParameters ?? {});
    const job = await rollBackRestore(deps.dr, jobId, principal.id);
    const pointer = await deps.dr.repo.getPointer(job.target);
    return json(200, { jobId, state: job.state, live: pointer?.live.copyId, pointerVersion: pointer?.version });
  },

  /** GET /dr/status/{id} (any role). */
  async drStatus({ event, deps }: OperationRequest) {
    const { id } = parseOrThrow(IdPath, event.pathParameters ?? {});
    return json(200, drJobView(await loadJob(deps.dr.repo, id)));
  },

  /**
   * GET /dr/status/{id}/events (any role): the job's progress as server-sent events. API Gateway and
   * the local server buffer a proxy response, so this holds the request open until the job ends (or
   * `waitSeconds`) and then returns every event since `Last-Event-ID`/`afterSeq` at once, ending with
   * `event: end` when the job has finished; an EventSource reconnects and continues after the last id.
   */
  async drStatusEvents({ event, deps }: OperationRequest) {
    const { id } = parseOrThrow(IdPath, event.pathParameters ?? {});
    const query = parseOrThrow(EventsQuery, event.queryStringParameters ?? {});
    const afterSeq = query.afterSeq ?? parseOrThrow(LastEventId, headerValue(event, 'last-event-id'), 'Last-Event-ID') ?? 0;
    const job = await awaitFinishedJob({ repo: deps.dr.repo, clock: deps.dr.clock, sleep }, id, query.waitSeconds * 1000);
    const events = await deps.dr.repo.listEvents(id, afterSeq);
    const finished = FINISHED_DR_STATES.includes(job.state) ? job : undefined;
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      body: toServerSentEvents(events, finished),
    };
  },

  /** GET /dr/targets/{target} (any role): the target and which copy is live (the traffic pointer). */
  async drTarget({ event, deps: { dr } }: OperationRequest) {
    const { target: name } = parseOrThrow(TargetPath, event.pathParameters ?? {});
    const target = findTarget(dr.targets, name);
    const pointer = await dr.repo.getPointer(name);
    return json(200, {
      target,
      live: liveCopy(target, pointer),
      previous: pointer?.previous,
      pointerVersion: pointer?.version ?? 0,
      flippedAt: pointer?.flippedAt,
    });
  },
};
