import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handleApiEvent, handlerParts as runApiParts } from '../../../functions/handlers/api.ts';
import { handleOpsApiEvent, handlerParts as opsApiParts } from '../../../functions/handlers/ops-api.ts';
import { depsViewOf } from '../../../functions/handlers/shared/compose-deps.ts';
import { loadConfig } from '../../../functions/handlers/shared/config.ts';
import { createDeps } from '../../../functions/handlers/shared/deps.ts';

const deps = createDeps(loadConfig({ MAESTRO_STATE_TABLE: 'maestro-state-unused', MAESTRO_AUTH_MODE: 'dev-tokens' }));

const event = (httpMethod: string, resource: string) =>
  ({
    httpMethod,
    resource,
    path: resource,
    pathParameters: null,
    headers: { authorization: 'Bearer dev-operator' },
    body: null,
  }) as unknown as APIGatewayProxyEvent;

describe("depsViewOf: a Lambda function's deps over the embedded stack's", () => {
  it('passes the named members through as the same objects, and refuses the others, naming the member and the owner', () => {
    const view = depsViewOf(deps, { config: () => deps.config, runs: () => deps.runs }, 'functions/handlers/example.ts');
    expect(view.config).toBe(deps.config);
    expect(view.runs).toBe(deps.runs);
    expect(() => view.dr).toThrow('deps.dr is not wired in functions/handlers/example.ts');
    // A spread sees the wired members only, as in the function.
    expect(Object.keys({ ...view }).sort()).toEqual(['config', 'runs']);
  });

  it('gives the run API no DR workflows, drift, outbox or executor, and the operations API no MCP-only part', () => {
    const runApi = depsViewOf(deps, runApiParts, 'functions/handlers/api.ts');
    for (const member of ['outbox', 'drift', 'subscriptions', 'templates', 'triggers', 'executor', 'actionContext'] as const) {
      expect(() => runApi[member], member).toThrow(`deps.${member} is not wired in functions/handlers/api.ts`);
    }
    const opsApi = depsViewOf(deps, opsApiParts, 'functions/handlers/ops-api.ts');
    expect(() => opsApi.unverifiedLinks).toThrow('deps.unverifiedLinks is not wired in functions/handlers/ops-api.ts');
    expect(() => opsApi.notifier).toThrow('deps.notifier is not wired');
  });
});

describe('the two API functions', () => {
  it("answer 404 for a route of the other's family, naming the function that serves it", async () => {
    const toOps = await handleOpsApiEvent(deps, event('GET', '/runs'));
    expect(toOps.statusCode).toBe(404);
    expect(JSON.parse(toOps.body).error).toMatchObject({ code: 'RouteNotFound', message: 'GET /runs is served by the runs API function' });
    const toRuns = await handleApiEvent(deps, event('GET', '/templates'));
    expect(toRuns.statusCode).toBe(404);
    expect(JSON.parse(toRuns.body).error).toMatchObject({ code: 'RouteNotFound', message: 'GET /templates is served by the ops API function' });
  });

  it('serve the contract from the generated file, equal to the one the handlers build', async () => {
    const { buildOpenApiDocument } = await import('../../../functions/handlers/api/openapi.ts');
    const response = await handleOpsApiEvent(deps, event('GET', '/openapi.json'));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual(buildOpenApiDocument());
  });
});
