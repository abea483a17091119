import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import type { Principal } from '../../core/runs/model.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import type { Invocation } from '../shared/telemetry.ts';

/** What every authenticated operation gets: the event, the deps, who calls, the correlation id. */
export interface OperationRequest {
  event: APIGatewayProxyEvent;
  deps: HandlerDeps;
  principal: Principal;
  correlationId: string;
}

export type Operation = (request: OperationRequest) => Promise<APIGatewayProxyResult>;

/** What the pages behind approval links get: no principal, the link is the credential. */
export interface LinkRequest {
  event: APIGatewayProxyEvent;
  deps: HandlerDeps;
  correlationId: string;
  telemetry?: Invocation;
}

/** `{id}` in a `/runs/{id}...` route. */
export const RunIdPath = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a run id') });

/** The Idempotency-Key header of the operations that create runs. */
export const IdempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 printable ASCII characters')
  .optional();
