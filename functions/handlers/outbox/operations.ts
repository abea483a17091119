import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { redriveDeadLetters } from '../../core/outbox/redrive-dead-letters.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { json, readJsonBody } from '../api/http.ts';
import type { Operation } from '../api/operation-request.ts';

export const DeadLettersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
});

/** `GET /outbox/dead-letters` and `POST /outbox/redrive`: the outbox's dead letters, for admins. */
export const outboxOperations = {
  listDeadLetters: (async ({ event, deps, principal }) => {
    requireRole(principal, Role.admin);
    const query = parseOrThrow(DeadLettersQuery, event.queryStringParameters ?? {});
    const page = await deps.outbox.deadLetters.list(query);
    return json(200, { deadLetters: page.items, nextCursor: page.nextCursor });
  }) as Operation,

  redriveOutbox: (async ({ event, deps, principal }) => {
    requireRole(principal, Role.admin);
    const result = await redriveDeadLetters(deps.outbox, readJsonBody(event));
    return json(200, result);
  }) as Operation,
};
