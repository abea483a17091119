import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { RunNotFound } from '../../core/errors.ts';
import { cancelRun } from '../../core/runs/cancel-run.ts';
import { createRun } from '../../core/runs/create-run.ts';
import { createRollbackRun } from '../../core/runs/create-rollback-run.ts';
import { eventView, runView } from '../../core/runs/run-view.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { IdempotencyKeyHeader, RunIdPath } from './operation-request.ts';
import type { Operation } from './operation-request.ts';
import { headerValue } from './authenticate.ts';
import { json, readJsonBody } from './http.ts';
import type { RunsAuthenticatedOperation } from './routes.ts';
import { listApprovals } from './approval-operations.ts';
import { safetyOperations } from './safety-operations.ts';
import { recoveryOperations } from './recovery-operations.ts';
import { catalogOperations } from './catalog-operations.ts';
import { checkpointRun } from '../shared/audit-checkpoint.ts';

export const EventsQuery = z.strictObject({
  afterSeq: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export const RunsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
});
export const CancelBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }).default({});
export { IdempotencyKeyHeader } from './operation-request.ts';

const runIdOf = (event: APIGatewayProxyEvent) => parseOrThrow(RunIdPath, event.pathParameters ?? {}).id;

/** The run API's authenticated operations (the routes of routes.ts without a `family`). */
export const runOperations: Record<RunsAuthenticatedOperation, Operation> = {
  async createRun({ event, deps, principal, correlationId }) {
    requireRole(principal, Role.operator, Role.admin);
    const idempotencyKey = parseOrThrow(IdempotencyKeyHeader, headerValue(event, 'idempotency-key'), 'Idempotency-Key');
    const result = await createRun(deps, { body: readJsonBody(event), principal, correlationId, idempotencyKey });
    return json(
      result.created ? 201 : 200,
      { runId: result.runId, created: result.created, links: links(result.runId) },
      { location: `/runs/${result.runId}` },
    );
  },

  async listRuns({ event, deps }) {
    const query = parseOrThrow(RunsQuery, event.queryStringParameters ?? {});
    const page = await deps.runs.listRuns(query);
    return json(200, { runs: page.items.map((run) => runView(run)), nextCursor: page.nextCursor });
  },

  async getRun({ event, deps }) {
    const runId = runIdOf(event);
    const found = await deps.runs.getWithTasks(runId);
    if (!found) throw new RunNotFound(`run ${runId} does not exist`, { field: 'id' });
    return json(200, { run: runView(found.run, found.tasks), links: links(runId) });
  },

  async listRunEvents({ event, deps }) {
    const runId = runIdOf(event);
    const query = parseOrThrow(EventsQuery, event.queryStringParameters ?? {});
    if (!(await deps.runs.get(runId))) throw new RunNotFound(`run ${runId} does not exist`, { field: 'id' });
    const page = await deps.runs.listEvents(runId, query);
    return json(200, { runId, events: page.items.map(eventView), nextAfterSeq: page.nextCursor ? Number(page.nextCursor) : undefined });
  },

  async cancelRun({ event, deps, principal }) {
    requireRole(principal, Role.operator, Role.admin);
    const runId = runIdOf(event);
    const body = parseOrThrow(CancelBody, readJsonBody(event));
    const run = await cancelRun(deps, { runId, principal, reason: body.reason });
    await checkpointRun(deps, runId);
    return json(202, { runId, status: run.status, cancelRequested: run.cancelRequested !== undefined });
  },

  /** A new run that undoes a finished run's applied tasks (planned, gated and approved like any run). */
  async rollbackRun({ event, deps, principal, correlationId }) {
    requireRole(principal, Role.operator, Role.admin);
    const runId = runIdOf(event);
    const result = await createRollbackRun(deps, { runId, body: readJsonBody(event), principal, correlationId });
    await checkpointRun(deps, runId); // the original's trail gained RollbackRequested after its final head
    return json(201, { runId: result.runId, rollbackOf: runId, links: links(result.runId) }, { location: `/runs/${result.runId}` });
  },

  ...safetyOperations,
  listApprovals,
  ...recoveryOperations,
  ...catalogOperations,
};

const links = (runId: string) => ({ self: `/runs/${runId}`, events: `/runs/${runId}/events`, cancel: `/runs/${runId}/cancel` });
