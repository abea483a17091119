import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import type { Principal } from '../../core/runs/model.ts';
import { resumeRun } from '../../core/runs/resume-run.ts';
import { parseOrThrow } from '../../core/validation.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import { json } from './http.ts';

const RunIdPath = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a run id') });

type RecoveryOperation = (request: { event: APIGatewayProxyEvent; deps: HandlerDeps; principal: Principal }) => Promise<APIGatewayProxyResult>;

/** `POST /runs/{id}/resume`: an operator gets a run's stopped workflow going again. */
export const recoveryOperations = {
  resumeRun: (async ({ event, deps, principal }) => {
    requireRole(principal, Role.operator, Role.admin);
    const { id } = parseOrThrow(RunIdPath, event.pathParameters ?? {});
    const result = await resumeRun(deps, { runId: id, principal });
    return json(202, result);
  }) as RecoveryOperation,
};
