import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '../../local/eventbridge/event-bridge-emulator.ts';
import { startOutboxRelayLoop } from '../../local/outbox/outbox-relay-loop.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../support/test-stack.ts';

let stack: EmbeddedStack;
beforeAll(async () => {
  stack = await startTestStack('outbox');
});
afterAll(async () => {
  await stack?.stop();
});

interface Detail {
  id: string;
  runId: string;
  seq: number;
  type: string;
  correlationId: string;
}

const detailOf = (event: DeliveredEvent) => event.Detail as Detail;
const deliveredFor = (runId: string) => stack.eventBridge.delivered().filter((event) => detailOf(event).runId === runId);

/** A consumer that dedupes by the message id: it acts once per id, however often the id arrives. */
function dedupingConsumer(events: readonly DeliveredEvent[]): Map<string, number> {
  const handled = new Map<string, number>();
  for (const event of events) {
    const { id } = detailOf(event);
    if (handled.has(id)) continue; // already acted on: a re-delivery
    handled.set(id, (handled.get(id) ?? 0) + 1);
  }
  return handled;
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function finishedRun(body: Record<string, unknown>) {
  const created = await api(stack, 'POST', '/runs', { body });
  expect(created.status).toBe(201);
  const run = await waitForRun(stack, created.body.runId);
  return run as { id: string; status: string; correlationId: string };
}

const expectedIds = async (runId: string) => {
  const events: { seq: number }[] = (await api(stack, 'GET', `/runs/${runId}/events`)).body.events;
  return events.map((event) => `${runId}#${event.seq}`);
};

describe('the outbox', () => {
  it('delivers every run event to EventBridge at least once: source maestro, detail-type the event type, detail.id = runId#seq', async () => {
    const run = await finishedRun({
      goal: 'announce me',
      mode: 'APPLY',
      reasonForAccess: 'outbox test',
      tasks: [
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'outbox/one.txt', body: 'one\n' } },
        { action: 'noop', params: {} },
      ],
    });
    expect(run.status).toBe('SUCCEEDED');
    const ids = await expectedIds(run.id);
    expect(ids.length).toBeGreaterThan(8);
    const delivered = await waitFor('every event delivered', () => {
      const events = deliveredFor(run.id);
      const seen = new Set(events.map((event) => detailOf(event).id));
      return ids.every((id) => seen.has(id)) ? events : undefined;
    });
    const runEvents: { seq: number; type: string }[] = (await api(stack, 'GET', `/runs/${run.id}/events`)).body.events;
    for (const event of runEvents) {
      const entry = delivered.find((candidate) => detailOf(candidate).id === `${run.id}#${event.seq}`)!;
      expect(entry.Source).toBe('maestro');
      expect(entry.DetailType).toBe(event.type);
      expect(entry.EventBusName).toBe('maestro');
      expect(detailOf(entry)).toMatchObject({ runId: run.id, seq: event.seq, type: event.type, correlationId: run.correlationId });
    }
    // Nothing but outbox rows is announced (no run, task, event or idempotency items).
    expect(delivered.every((event) => /^[0-9a-f-]+#\d+$/.test(detailOf(event).id))).toBe(true);
  });

  it('re-delivers after a relay restart from TRIM_HORIZON, and a consumer deduping by id acts on each event exactly once', async () => {
    const run = await finishedRun({ goal: 'deliver me twice', mode: 'PLAN', tasks: [{ action: 'noop', params: {} }] });
    const ids = await expectedIds(run.id);
    await waitFor('first delivery', () => (new Set(deliveredFor(run.id).map((event) => detailOf(event).id)).size === ids.length ? true : undefined));

    // A second relay that lost its checkpoint reads the whole stream again.
    const again = await startOutboxRelayLoop({
      tableName: stack.stateTable,
      checkpointFile: `${stack.dataDir}/outbox/replay-checkpoint.json`,
      startFrom: 'TRIM_HORIZON',
      handler: async (event) => (await import('../../functions/handlers/outbox/relay.ts')).relayStreamBatch(stack.deps.outbox, event),
    });
    try {
      await waitFor('re-delivery', () => {
        const counts = new Map<string, number>();
        for (const event of deliveredFor(run.id)) counts.set(detailOf(event).id, (counts.get(detailOf(event).id) ?? 0) + 1);
        return ids.every((id) => (counts.get(id) ?? 0) >= 2) ? true : undefined;
      });
    } finally {
      await again.stop();
    }
    const raw = deliveredFor(run.id);
    expect(raw.length).toBeGreaterThanOrEqual(2 * ids.length);
    const handled = dedupingConsumer(raw);
    expect([...handled.keys()].sort()).toEqual([...ids].sort());
    expect([...handled.values()].every((times) => times === 1)).toBe(true);
  });

  it('retries a transient failure; what keeps failing is dead-lettered with its category, listed for admins, and re-driven', async () => {
    // RunPlanned fails once (retried, then delivered); RunPlanOnlyFinished fails on every relay attempt.
    stack.eventBridge.injectFailures({
      count: 1,
      errorCode: 'ThrottlingException',
      match: (entry) => entry.DetailType === 'RunPlanned' && (entry.Detail as Detail).runId !== undefined,
    });
    stack.eventBridge.injectFailures({ count: 3, errorCode: 'InternalFailure', match: (entry) => entry.DetailType === 'RunPlanOnlyFinished' });
    stack.eventBridge.injectFailures({ count: 1, errorCode: 'AccessDeniedException', match: (entry) => entry.DetailType === 'RunAdmitted' });
    const run = await finishedRun({ goal: 'fail my delivery', mode: 'PLAN', tasks: [{ action: 'noop', params: {} }] });
    const events: { seq: number; type: string }[] = (await api(stack, 'GET', `/runs/${run.id}/events`)).body.events;
    const idOf = (type: string) => `${run.id}#${events.find((event) => event.type === type)!.seq}`;

    const letters = await waitFor('two dead letters', async () => {
      const listed = await api(stack, 'GET', '/outbox/dead-letters', { token: 'dev-admin' });
      const mine = (listed.body.deadLetters as { id: string }[]).filter((letter) => letter.id.startsWith(run.id));
      return mine.length === 2 ? (mine as { id: string; error: { name: string; category: string }; attempts: number; message: { type: string } }[]) : undefined;
    });
    const byId = new Map(letters.map((letter) => [letter.id, letter]));
    expect(byId.get(idOf('RunPlanOnlyFinished'))).toMatchObject({
      error: { name: 'InternalFailure', category: 'transient' },
      attempts: 3,
      message: { type: 'RunPlanOnlyFinished' },
    });
    // A refusal that no retry can cure is dead-lettered at once.
    expect(byId.get(idOf('RunAdmitted'))).toMatchObject({ error: { name: 'AccessDeniedException', category: 'policy' }, attempts: 1 });
    const delivered = new Set(deliveredFor(run.id).map((event) => detailOf(event).id));
    expect(delivered.has(idOf('RunPlanned'))).toBe(true);
    expect(delivered.has(idOf('RunPlanOnlyFinished'))).toBe(false);
    expect(delivered.has(idOf('RunAdmitted'))).toBe(false);

    // Operators may not see or re-drive dead letters; bad requests name the field.
    expect((await api(stack, 'GET', '/outbox/dead-letters')).status).toBe(403);
    expect((await api(stack, 'POST', '/outbox/redrive', { body: {} })).status).toBe(403);
    const bad = await api(stack, 'POST', '/outbox/redrive', { token: 'dev-admin', body: { ids: ['not an id'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('ids[0]');

    const redriven = await api(stack, 'POST', '/outbox/redrive', {
      token: 'dev-admin',
      body: { ids: [idOf('RunPlanOnlyFinished'), idOf('RunAdmitted'), `${run.id}#999`] },
    });
    expect(redriven.status).toBe(200);
    expect(redriven.body.redriven.sort()).toEqual([idOf('RunPlanOnlyFinished'), idOf('RunAdmitted')].sort());
    expect(redriven.body.notFound).toEqual([`${run.id}#999`]);
    const after = new Set(deliveredFor(run.id).map((event) => detailOf(event).id));
    const ids = await expectedIds(run.id);
    expect(ids.every((id) => after.has(id))).toBe(true);
    const listed = await api(stack, 'GET', '/outbox/dead-letters', { token: 'dev-admin' });
    expect((listed.body.deadLetters as { id: string }[]).filter((letter) => letter.id.startsWith(run.id))).toEqual([]);
  });
});
