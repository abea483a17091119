import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '../../../functions/core/egress/circuit-breaker.ts';
import { CircuitOpen } from '../../../functions/core/errors.ts';
import { handleApiEvent } from '../../../functions/handlers/api.ts';
import { loadConfig } from '../../../functions/handlers/shared/config.ts';
import { createDeps } from '../../../functions/handlers/shared/deps.ts';

const getRun = (id: string) =>
  ({
    httpMethod: 'GET',
    resource: '/runs/{id}',
    path: `/runs/${id}`,
    pathParameters: { id },
    headers: { authorization: 'Bearer dev-operator' },
    body: null,
  }) as unknown as APIGatewayProxyEvent;

const deps = createDeps(loadConfig({ MAESTRO_STATE_TABLE: 'maestro-state-unused', MAESTRO_AUTH_MODE: 'dev-tokens' }));

describe('CircuitOpen through the API', () => {
  it('answers 503 with code CircuitOpen and Retry-After, not a generic 500', async () => {
    // A breaker opened by 2 failures: the error the API meets is the one admit() throws.
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 30_000, clock: () => now });
    breaker.failed('flaky.test');
    breaker.failed('flaky.test');
    now = 1_000;
    const refusal = (() => {
      try {
        breaker.admit('flaky.test');
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(CircuitOpen);
    vi.spyOn(deps.runs, 'getWithTasks').mockRejectedValue(refusal);

    const response = await handleApiEvent(deps, getRun('run-1'));
    expect(response.statusCode).toBe(503);
    const body = JSON.parse(response.body);
    expect(body.error.code).toBe('CircuitOpen');
    expect(body.error.message).toMatch(/circuit for flaky.test is open/);
    expect(response.headers?.['retry-after']).toBe('29');
  });

  it('still hides an unexpected error behind a generic 500', async () => {
    vi.spyOn(deps.runs, 'getWithTasks').mockRejectedValue(new Error('ECONNREFUSED 10.0.0.7:8000'));
    const response = await handleApiEvent(deps, getRun('run-2'));
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toMatch(/ECONNREFUSED/);
  });
});
