import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../support/test-stack.ts';

let stack: EmbeddedStack;
beforeAll(async () => {
  stack = await startTestStack('guards');
});
afterAll(async () => {
  await stack?.stop();
});

const validRun = () => ({ goal: 'guard test', mode: 'PLAN', tasks: [{ action: 'noop', params: {} }] });

async function runCount(): Promise<number> {
  return (await api(stack, 'GET', '/runs?limit=100')).body.runs.length;
}

describe('the HTTP API refuses bad input with a 4xx that names the field, and writes nothing', () => {
  it('answers /health without authentication', async () => {
    const response = await api(stack, 'GET', '/health', { token: null });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('refuses malformed JSON', async () => {
    const before = await runCount();
    const response = await api(stack, 'POST', '/runs', { rawBody: '{"goal": "x",', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'InvalidJson', field: 'body' });
    expect(await runCount()).toBe(before);
  });

  it('refuses missing and mistyped fields, naming them', async () => {
    const missingGoal = await api(stack, 'POST', '/runs', { body: { mode: 'PLAN', tasks: [{ action: 'noop' }] } });
    expect(missingGoal.status).toBe(400);
    expect(missingGoal.body.error).toMatchObject({ code: 'ValidationFailed', field: 'goal' });
    const badMode = await api(stack, 'POST', '/runs', { body: { ...validRun(), mode: 'YOLO' } });
    expect(badMode.status).toBe(400);
    expect(badMode.body.error.field).toBe('mode');
    const noBody = await api(stack, 'POST', '/runs');
    expect(noBody.status).toBe(400);
  });

  it('refuses an unknown action and bad action params, naming the task', async () => {
    const before = await runCount();
    const unknown = await api(stack, 'POST', '/runs', { body: { ...validRun(), tasks: [{ action: 'noop' }, { action: 'shell.exec', params: {} }] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'UnknownAction', field: 'tasks[1].action' });
    const badParams = await api(stack, 'POST', '/runs', {
      body: { ...validRun(), tasks: [{ action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'k', body: 1 } }] },
    });
    expect(badParams.status).toBe(400);
    expect(badParams.body.error.field).toBe('tasks[0].params.body');
    const extraParam = await api(stack, 'POST', '/runs', { body: { ...validRun(), tasks: [{ action: 'noop', params: { sleepMs: 1, rm: true } }] } });
    expect(extraParam.status).toBe(400);
    expect(extraParam.body.error.field).toBe('tasks[0].params.rm');
    expect(await runCount()).toBe(before);
  });

  it('refuses a huge body with 413, at the handler and at the gateway', async () => {
    const big = await api(stack, 'POST', '/runs', { body: { ...validRun(), goal: 'x'.repeat(300_000) } });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ code: 'PayloadTooLarge', field: 'body' });
    const huge = await api(stack, 'POST', '/runs', { rawBody: Buffer.alloc(11 * 1024 * 1024, 0x20), headers: { 'content-type': 'application/json' } });
    expect(huge.status).toBe(413);
  });

  it('refuses a body that is not JSON by media type', async () => {
    const response = await api(stack, 'POST', '/runs', { rawBody: 'goal=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(response.status).toBe(415);
    expect(response.body.error.field).toBe('Content-Type');
  });

  it('needs a known bearer token (401) and the operator role to start runs (403)', async () => {
    const anonymous = await api(stack, 'POST', '/runs', { token: null, body: validRun() });
    expect(anonymous.status).toBe(401);
    const forged = await api(stack, 'GET', '/runs', { token: 'dev-root' });
    expect(forged.status).toBe(401);
    const approver = await api(stack, 'POST', '/runs', { token: 'dev-approver', body: validRun() });
    expect(approver.status).toBe(403);
    expect(approver.body.error.code).toBe('Forbidden');
    const reader = await api(stack, 'GET', '/runs', { token: 'dev-approver' });
    expect(reader.status).toBe(200);
  });

  it('answers 404 for unknown runs and routes, 405 for a wrong method, 400 for bad queries', async () => {
    const unknownRun = await api(stack, 'GET', '/runs/00000000-0000-0000-0000-000000000000');
    expect(unknownRun.status).toBe(404);
    expect(unknownRun.body.error.code).toBe('RunNotFound');
    expect((await api(stack, 'GET', '/runs/00000000-0000-0000-0000-000000000000/events')).status).toBe(404);
    expect((await api(stack, 'POST', '/runs/00000000-0000-0000-0000-000000000000/cancel')).status).toBe(404);
    expect((await api(stack, 'GET', '/runs/not%20an%20id')).body.error.field).toBe('id');
    expect((await api(stack, 'GET', '/nowhere')).status).toBe(404);
    expect((await api(stack, 'DELETE', '/runs')).status).toBe(405);
    const badLimit = await api(stack, 'GET', '/runs?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.field).toBe('limit');
    const badCursor = await api(stack, 'GET', '/runs?cursor=nope');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.field).toBe('cursor');
  });

  it('returns the same run for the same Idempotency-Key and body, and 409 for another body', async () => {
    const headers = { 'idempotency-key': `guard-${Date.now()}` };
    const first = await api(stack, 'POST', '/runs', { body: validRun(), headers });
    expect(first.status).toBe(201);
    const second = await api(stack, 'POST', '/runs', { body: validRun(), headers });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ runId: first.body.runId, created: false });
    const conflicting = await api(stack, 'POST', '/runs', { body: { ...validRun(), goal: 'something else' }, headers });
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.error).toMatchObject({ code: 'IdempotencyKeyReused', field: 'Idempotency-Key' });
    const run = await waitForRun(stack, first.body.runId);
    expect(run.status).toBe('PLANNED');
    const events = (await api(stack, 'GET', `/runs/${first.body.runId}/events`)).body.events;
    expect(events.filter((event: { type: string }) => event.type === 'RunRequested')).toHaveLength(1);
  });

  it('echoes a well-formed correlation id and replaces a malformed one', async () => {
    const kept = await api(stack, 'GET', '/runs', { headers: { 'x-correlation-id': 'trace-123' } });
    expect(kept.headers.get('x-correlation-id')).toBe('trace-123');
    const replaced = await api(stack, 'GET', '/runs', { headers: { 'x-correlation-id': 'bad id with spaces' } });
    expect(replaced.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
