import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../functions/handlers/api/openapi.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { openApiValidator } from '../support/openapi-validator.ts';
import { api, startTestStack, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

let stack: EmbeddedStack;
beforeAll(async () => {
  stack = await startTestStack('openapi');
});
afterAll(async () => {
  await stack?.stop();
});

const check = openApiValidator();
/** Each recorded answer, by operation: what the flows below saw. */
const recorded: { operationId: string; status: number; body: unknown }[] = [];
async function call(operationId: string, method: string, path: string, options: Parameters<typeof api>[3] = {}) {
  const response = await api(stack, method, path, options);
  recorded.push({ operationId, status: response.status, body: response.body });
  return response;
}

describe('the answers of the running API conform to its OpenAPI document', () => {
  it('serves the document at GET /openapi.json without a token, as generated', async () => {
    const response = await call('openApi', 'GET', '/openapi.json', { token: null });
    expect(response.status).toBe(200);
    expect(response.body).toStrictEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
    expect((await call('health', 'GET', '/health', { token: null })).status).toBe(200);
  });

  it('a run, from creation to its end, and the reads around it', async () => {
    const created = await call('createRun', 'POST', '/runs', {
      body: { goal: 'contract flow', mode: 'APPLY', reasonForAccess: 'openapi contract test', tasks: [{ action: 'noop', params: {} }] },
      headers: { 'idempotency-key': 'contract-1' },
    });
    expect(created.status).toBe(201);
    const runId = created.body.runId as string;
    await waitForRun(stack, runId);
    expect(
      (
        await call('createRun', 'POST', '/runs', {
          body: { goal: 'contract flow', mode: 'APPLY', reasonForAccess: 'openapi contract test', tasks: [{ action: 'noop', params: {} }] },
          headers: { 'idempotency-key': 'contract-1' },
        })
      ).status,
    ).toBe(200);
    expect((await call('getRun', 'GET', `/runs/${runId}`)).status).toBe(200);
    expect((await call('listRunEvents', 'GET', `/runs/${runId}/events`)).status).toBe(200);
    expect((await call('listRuns', 'GET', '/runs?limit=5')).status).toBe(200);
    expect((await call('auditVerify', 'GET', `/runs/${runId}/audit/verify`)).status).toBe(200);
    expect((await call('cancelRun', 'POST', `/runs/${runId}/cancel`, { body: {} })).status).toBe(409);
    expect((await call('getRun', 'GET', '/runs/no-such-run')).status).toBe(404);
  });

  it('an approval in prod, decided by an approver', async () => {
    const created = await call('createRun', 'POST', '/runs', {
      body: {
        goal: 'contract approval',
        mode: 'APPLY',
        environment: 'prod',
        reasonForAccess: 'openapi contract test',
        tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'contract/approved.txt', body: 'approved\n' } }],
      },
    });
    const runId = created.body.runId as string;
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL', 'awaiting approval');
    expect((await call('listApprovals', 'GET', '/approvals')).status).toBe(200);
    expect((await call('approveRun', 'POST', `/runs/${runId}/approve`, { token: 'dev-operator', body: {} })).status).toBe(403);
    expect((await call('approveRun', 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: { comment: 'fine' } })).status).toBe(200);
    await waitForRun(stack, runId);
  });

  it('the catalog, the control record, the kill switch and the errors', async () => {
    expect((await call('listActions', 'GET', '/actions')).status).toBe(200);
    expect((await call('getAction', 'GET', '/actions/noop')).status).toBe(200);
    expect((await call('getAction', 'GET', '/actions/constructor')).status).toBe(404);
    expect((await call('getControl', 'GET', '/control')).status).toBe(200);
    expect((await call('listLocks', 'GET', '/locks')).status).toBe(200);
    expect((await call('setKillSwitch', 'POST', '/control/kill-switch', { body: { engaged: false, reason: 'x' } })).status).toBe(403);
    expect((await call('setKillSwitch', 'POST', '/control/kill-switch', { token: 'dev-admin', body: { engaged: false, reason: 'x' } })).status).toBe(400);
    expect(
      (await call('setKillSwitch', 'POST', '/control/kill-switch', { token: 'dev-admin', body: { engaged: false, reason: 'contract test: stays off' } }))
        .status,
    ).toBe(200);
    expect((await call('listRuns', 'GET', '/runs', { token: null })).status).toBe(401);
    expect((await call('createRun', 'POST', '/runs', { body: { goal: 'x', mode: 'NOPE', tasks: [] } })).status).toBe(400);
    expect((await call('checkEgress', 'POST', '/egress/check', { token: 'dev-admin', body: { url: 'https://example.com/' } })).status).toBe(200);
    expect((await call('getSlo', 'GET', '/slo')).status).toBe(200);
  });

  it('every recorded answer validates against the document', () => {
    expect(recorded.length).toBeGreaterThan(25);
    const failures = recorded
      .map((answer) => ({ ...answer, errors: check(answer.operationId, answer.status, answer.body) }))
      .filter((answer) => answer.errors.length > 0)
      .map(({ operationId, status, errors }) => `${operationId} ${status}: ${errors.join('; ')}`);
    expect(failures).toStrictEqual([]);
  });

  it('and the validator refuses an answer that breaks the contract', () => {
    expect(check('createRun', 201, { runId: 'r', created: 'yes' })).not.toStrictEqual([]);
    expect(check('getRun', 404, { error: { code: 'Nope', message: 'm', correlationId: 'c' } })).not.toStrictEqual([]);
    expect(check('getRun', 404, { error: { code: 'RunNotFound', message: 'm', correlationId: 'c' } })).toStrictEqual([]);
  });
});
