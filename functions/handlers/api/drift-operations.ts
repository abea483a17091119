import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { driftMetrics } from '../../core/drift/drift-metrics.ts';
import { findingView } from '../../core/drift/finding-view.ts';
import { DriftStatus } from '../../core/drift/model.ts';
import { remediateDrift } from '../../core/drift/remediate-drift.ts';
import { sweepDrift } from '../../core/drift/sweep-drift.ts';
import { DriftFindingNotFound } from '../../core/errors.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { Invocation } from '../shared/telemetry.ts';
import { json, readJsonBody } from './http.ts';
import type { Operation } from './operation-request.ts';

const EnvironmentName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be an environment name');
export const DriftIdPath = z.object({ id: z.string().regex(/^drift-[0-9a-f]{32}$/, 'must be a drift finding id (drift-<32 hex>)') });
export const DriftQuery = z.strictObject({
  environment: EnvironmentName.optional(),
  status: z.enum(Object.values(DriftStatus) as [DriftStatus, ...DriftStatus[]]).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
});
export const SweepBody = z.strictObject({ environment: EnvironmentName });

/** Drift detection: findings, a sweep now, and remediation through a gated run. */
export const driftOperations = {
  /** GET /drift (any role): findings, newest first. */
  listDrift: (async ({ event, deps }) => {
    const query = parseOrThrow(DriftQuery, event.queryStringParameters ?? {});
    const page = await deps.drift.list({ ...query, status: query.status ? [query.status] : undefined });
    return json(200, { findings: page.items.map(findingView), nextCursor: page.nextCursor });
  }) as Operation,

  /** GET /drift/{id} (any role): one finding, with its whole diff. */
  getDrift: (async ({ event, deps }) => {
    const { id } = parseOrThrow(DriftIdPath, event.pathParameters ?? {});
    const finding = await deps.drift.get(id);
    if (!finding) throw new DriftFindingNotFound(`drift finding ${id} does not exist`, { field: 'id' });
    return json(200, { finding: findingView(finding) });
  }) as Operation,

  /** POST /drift/sweeps (operator): sweep an environment now, as its schedule would. */
  sweepDrift: (async ({ event, deps, principal, correlationId }) => {
    requireRole(principal, Role.operator, Role.admin);
    const body = parseOrThrow(SweepBody, readJsonBody(event));
    const result = await sweepDrift(deps, { environment: body.environment, correlationId });
    const telemetry = new Invocation(undefined, { step: 'DriftSweep', correlation_id: correlationId });
    telemetry.addMetrics(driftMetrics(result));
    telemetry.publish();
    return json(200, { ...result, detected: result.detected.map(findingView) });
  }) as Operation,

  /** POST /drift/{id}/remediate (operator): a gated run that applies again what the finding's run applied. */
  remediateDrift: (async ({ event, deps, principal, correlationId }) => {
    requireRole(principal, Role.operator, Role.admin);
    const { id } = parseOrThrow(DriftIdPath, event.pathParameters ?? {});
    const result = await remediateDrift(deps, { id, body: readJsonBody(event), principal, correlationId });
    return json(
      result.created ? 201 : 200,
      { runId: result.runId, created: result.created, finding: findingView(result.finding), links: { run: `/runs/${result.runId}` } },
      { location: `/runs/${result.runId}` },
    );
  }) as Operation,
};
