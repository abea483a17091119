import { Role, requireRole } from '../../core/auth.ts';
import { resumeRun } from '../../core/runs/resume-run.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { RunIdPath } from './operation-request.ts';
import type { Operation } from './operation-request.ts';
import { json } from './http.ts';

/** `POST /runs/{id}/resume`: an operator gets a run's stopped workflow going again. */
export const recoveryOperations = {
  resumeRun: (async ({ event, deps, principal }) => {
    requireRole(principal, Role.operator, Role.admin);
    const { id } = parseOrThrow(RunIdPath, event.pathParameters ?? {});
    const result = await resumeRun(deps, { runId: id, principal });
    return json(202, result);
  }) as Operation,
};
