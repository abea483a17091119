import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { exportTrail } from '../../core/audit/export-trail.ts';
import { loadSlo } from '../../core/audit/load-slo.ts';
import { verifyRunAudit } from '../../core/audit/verify-run-audit.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { json } from './http.ts';
import { RunIdPath } from './operation-request.ts';
import type { OperationRequest } from './operation-request.ts';

const Since = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be an ISO 8601 date or date-time (2026-11-25 or 2026-11-25T08:00:00Z)' })
  .transform((text) => new Date(text))
  .optional();
export const SinceQuery = z.strictObject({ since: Since });

/** The audit trail's operations: verify one run's chain, export the trail, the SLOs computed from it. */
export const auditOperations = {
  /** `GET /runs/{id}/audit/verify`: recompute the chain, check the run's head and the signed head. */
  async auditVerify({ event, deps }: OperationRequest) {
    const { id } = parseOrThrow(RunIdPath, event.pathParameters ?? {});
    return json(200, await verifyRunAudit({ runs: deps.runs, sealing: deps.auditSealing }, id));
  },

  /** `GET /audit/export?since=`: the trail as JSON Lines, run by run and seq by seq (admin only). */
  async auditExport({ event, deps, principal }: OperationRequest) {
    requireRole(principal, Role.admin);
    const { since } = parseOrThrow(SinceQuery, event.queryStringParameters ?? {});
    const lines: string[] = [];
    for await (const record of exportTrail(deps.runs, { since })) lines.push(JSON.stringify(record));
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-record-count': String(lines.length) },
      body: lines.length ? `${lines.join('\n')}\n` : '',
    };
  },

  /** `GET /slo?since=`: plan latency, apply success rate and mean time to resume, from the events. */
  async getSlo({ event, deps }: OperationRequest) {
    const { since } = parseOrThrow(SinceQuery, event.queryStringParameters ?? {});
    return json(200, await loadSlo(deps.runs, { since }));
  },
};
