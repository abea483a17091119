import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resumeUnsettled } from '../../functions/core/triggers/fire-trigger.ts';
import { webhookSignature } from '../../functions/core/triggers/webhook-signature.ts';
import { handleTriggerInvocation } from '../../functions/handlers/triggers/fire.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import type { FiringOutcome } from '../../functions/core/triggers/trigger-model.ts';
import { api, startTestStack, until, waitForRun } from '../support/test-stack.ts';

let stack: EmbeddedStack;

beforeAll(async () => {
  stack = await startTestStack('triggers');
});
afterAll(async () => {
  await stack?.stop();
});

const admin = { token: 'dev-admin' };
/** Runs a trigger created, read from the table (count runs, not logs). */
async function runsOf(triggerId: string) {
  const { items } = await stack.deps.runs.listRuns({ limit: 100 });
  return items.filter((run) => run.trigger?.id === triggerId);
}
/** A trigger's firing items in the state table. */
async function firingsOf(triggerId: string) {
  const result = await stack.deps.clients.dynamodb.send(
    new QueryCommand({
      TableName: stack.stateTable,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :firing)',
      ExpressionAttributeValues: { ':pk': `TRIGGER#${triggerId}`, ':firing': 'FIRING#' },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}
async function journalOf(triggerId: string): Promise<{ type: string; payload?: { reason?: string; runId?: string } }[]> {
  return (await api(stack, 'GET', `/triggers/${triggerId}`)).body.journal;
}

const checkTemplate = (name: string, extra: object = {}) => ({
  name,
  goal: 'check {{what}}',
  mode: 'APPLY',
  params: { what: { type: 'string', maxLength: 40, default: 'the demo' } },
  tasks: [{ action: 'noop', params: { sleepMs: 10 } }],
  ...extra,
});

/** A template whose run writes (changes something): at autonomy 0 it parks for approval, so it is still going. */
const parkingTemplate = (name: string) => ({
  ...checkTemplate(name),
  reasonForAccess: 'triggered end-to-end test of templates',
  tasks: [{ action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'triggers/{{what}}.txt', body: 'written by a trigger' } }],
});

describe('run templates', () => {
  it('records versions (audited, admin only), instantiates runs through the run admission path, and records name and version', async () => {
    expect((await api(stack, 'POST', '/templates', { token: 'dev-operator', body: checkTemplate('tpl-a') })).status).toBe(403);
    const first = await api(stack, 'POST', '/templates', { ...admin, body: checkTemplate('tpl-a') });
    expect(first.status).toBe(201);
    expect(first.body.template.version).toBe(1);
    const again = await api(stack, 'POST', '/templates', { ...admin, body: checkTemplate('tpl-a') });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, template: { version: 1 } });
    const changed = await api(stack, 'POST', '/templates', { ...admin, body: checkTemplate('tpl-a', { goal: 'verify {{what}}' }) });
    expect(changed.body.template.version).toBe(2);
    const read = await api(stack, 'GET', '/templates/tpl-a');
    expect(read.body.journal.map((event: { type: string; actor: string }) => [event.type, event.actor])).toEqual([
      ['TemplateCreated', 'dev-admin'],
      ['TemplateChanged', 'dev-admin'],
    ]);
    expect((await api(stack, 'GET', '/templates/tpl-a?version=1')).body.template.goal).toBe('check {{what}}');
    // The folder's templates are recorded at start.
    expect((await api(stack, 'GET', '/templates')).body.templates.map((template: { name: string }) => template.name)).toContain('nightly-report');

    const created = await api(stack, 'POST', '/templates/tpl-a/runs', { body: { params: { what: 'the bucket' } } });
    expect(created.status).toBe(201);
    expect(created.body.template).toEqual({ name: 'tpl-a', version: 2 });
    const run = await waitForRun(stack, created.body.runId);
    expect(run).toMatchObject({ goal: 'verify the bucket', status: 'SUCCEEDED', template: { name: 'tpl-a', version: 2 }, requestedBy: 'dev-operator' });
    const pinned = await api(stack, 'POST', '/templates/tpl-a/runs', { body: { version: 1, params: {} } });
    expect((await api(stack, 'GET', `/runs/${pinned.body.runId}`)).body.run).toMatchObject({ goal: 'check the demo', template: { version: 1 } });
  });

  it('refuses bad parameters and runs the run validation would refuse, creating nothing', async () => {
    await api(stack, 'POST', '/templates', {
      ...admin,
      body: { ...checkTemplate('tpl-write'), tasks: [{ action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'tpl/{{what}}.txt', body: 'x' } }] },
    });
    const before = (await stack.deps.runs.listRuns({ limit: 100 })).items.length;
    const wrongType = await api(stack, 'POST', '/templates/tpl-a/runs', { body: { params: { what: 42 } } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.field).toBe('params.what');
    const unknown = await api(stack, 'POST', '/templates/tpl-a/runs', { body: { params: { tasks: [] } } });
    expect(unknown.body.error.field).toBe('params.tasks');
    // A WRITE task without a reason for access is refused exactly as POST /runs refuses it.
    const noReason = await api(stack, 'POST', '/templates/tpl-write/runs', { body: { params: {} } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.field).toBe('reasonForAccess');
    expect((await api(stack, 'POST', '/templates/nope/runs', { body: {} })).status).toBe(404);
    expect((await stack.deps.runs.listRuns({ limit: 100 })).items.length).toBe(before);
  });
});

describe('webhook triggers', () => {
  let secret: string;
  const deliver = (raw: string, signature: string | undefined) =>
    api(stack, 'POST', '/webhooks/gh-push', {
      token: null,
      rawBody: raw,
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
    });
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    await api(stack, 'POST', '/templates', { ...admin, body: parkingTemplate('tpl-hook') });
    const created = await api(stack, 'POST', '/triggers', {
      ...admin,
      body: { id: 'gh-push', kind: 'webhook', template: { name: 'tpl-hook' }, params: { what: 'push' }, autonomyCeiling: 0, overlap: 'queue' },
    });
    expect(created.status).toBe(201);
    secret = created.body.webhookSecret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a bad signature or an old timestamp gets 401 and writes nothing', async () => {
    const raw = JSON.stringify({ ref: 'refs/heads/main', timestamp: nowSeconds() });
    expect((await deliver(raw, undefined)).status).toBe(401);
    const forged = await deliver(raw, webhookSignature('guessed-secret', Buffer.from(raw)));
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('WebhookRefused');
    const old = JSON.stringify({ ref: 'refs/heads/main', timestamp: nowSeconds() - 3600 });
    expect((await deliver(old, webhookSignature(secret, Buffer.from(old)))).status).toBe(401);
    expect(await firingsOf('gh-push')).toHaveLength(0);
    expect(await runsOf('gh-push')).toHaveLength(0);
  });

  it('a signed delivery creates one run as trigger:<id>, capped at the trigger ceiling; its replay creates nothing', async () => {
    const raw = JSON.stringify({ ref: 'refs/heads/main', timestamp: nowSeconds() });
    const first = await deliver(raw, webhookSignature(secret, Buffer.from(raw)));
    expect(first.status).toBe(202);
    expect(first.body.outcome).toBe('created');
    const run = (await api(stack, 'GET', `/runs/${first.body.runId}`)).body.run;
    // dev's ceiling is 3; the trigger's is 0: the write waits for a person.
    await waitForRunWhereStatus(first.body.runId, 'AWAITING_APPROVAL');
    expect(run).toMatchObject({ requestedBy: 'trigger:gh-push', autonomy: 0, template: { name: 'tpl-hook', version: 1 }, trigger: { id: 'gh-push' } });
    const replay = await deliver(raw, webhookSignature(secret, Buffer.from(raw)));
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ outcome: 'duplicate', runId: first.body.runId });
    expect(await runsOf('gh-push')).toHaveLength(1);
    expect(await firingsOf('gh-push')).toHaveLength(1);
  });

  it('overlap queue: a delivery while the previous run is going waits, and starts once that run has finished', async () => {
    const [previous] = await runsOf('gh-push');
    await waitForRunWhereStatus(previous.id, 'AWAITING_APPROVAL');
    const raw = JSON.stringify({ ref: 'refs/heads/next', timestamp: nowSeconds() });
    const queued = await deliver(raw, webhookSignature(secret, Buffer.from(raw)));
    expect(queued.body.outcome).toBe('queued');
    await stack.triggers.tick();
    expect(await runsOf('gh-push')).toHaveLength(1);
    await api(stack, 'POST', `/runs/${previous.id}/cancel`, { body: { reason: 'let the queued one go' } });
    await waitForRun(stack, previous.id);
    await stack.triggers.tick();
    expect(await runsOf('gh-push')).toHaveLength(2);
    expect((await journalOf('gh-push')).map((event) => event.type)).toEqual(['TriggerCreated', 'TriggerFired', 'TriggerQueued', 'TriggerFired']);
  });
});

async function waitForRunWhereStatus(runId: string, status: string) {
  await until(async () => (await api(stack, 'GET', `/runs/${runId}`)).body.run.status === status, `run ${runId} ${status}`, 45_000);
}

describe('event triggers', () => {
  it('an event matching the pattern creates one run; a duplicate delivery of the same event creates nothing', async () => {
    await api(stack, 'POST', '/templates', { ...admin, body: checkTemplate('tpl-event', { mode: 'PLAN' }) });
    const created = await api(stack, 'POST', '/triggers', {
      ...admin,
      body: {
        id: 'ci-green',
        kind: 'event',
        template: { name: 'tpl-event' },
        pattern: { source: ['test.ci'], 'detail-type': ['Build Succeeded'], detail: { branch: ['main'] } },
      },
    });
    expect(created.status).toBe(201);
    const events = new EventBridgeClient({
      endpoint: stack.endpoints.eventbridge,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'test.ci', DetailType: 'Build Succeeded', Detail: JSON.stringify({ branch: 'main' }) },
          { Source: 'test.ci', DetailType: 'Build Succeeded', Detail: JSON.stringify({ branch: 'feature' }) },
        ],
      }),
    );
    await stack.eventBridge.idle();
    expect(await runsOf('ci-green')).toHaveLength(1);
    // EventBridge delivers at least once: the same event again (same id) fires nothing.
    const [outcome] = (await stack.eventBridge.redeliver(put.Entries![0].EventId!)) as { outcome: string }[];
    expect(outcome.outcome).toBe('duplicate');
    expect(await runsOf('ci-green')).toHaveLength(1);
    events.destroy();
  });
});

describe('schedule triggers under the kill switch, a pause and overlap skip', () => {
  const fire = async (triggerId: string, scheduledTime: string) =>
    (await handleTriggerInvocation(stack.deps, { kind: 'schedule', triggerId, scheduledTime })) as FiringOutcome;

  beforeAll(async () => {
    await api(stack, 'POST', '/templates', { ...admin, body: parkingTemplate('tpl-nightly') });
    for (const id of ['nightly', 'nightly-paused']) {
      const created = await api(stack, 'POST', '/triggers', {
        ...admin,
        body: { id, kind: 'schedule', schedule: 'cron(0 3 * * ? *)', template: { name: 'tpl-nightly' } },
      });
      expect(created.status).toBe(201);
    }
  });

  it('a firing under the kill switch is TriggerSkipped with the reason and creates no run', async () => {
    expect((await api(stack, 'POST', '/control/kill-switch', { ...admin, body: { engaged: true, reason: 'incident 7: stop everything' } })).status).toBe(200);
    try {
      expect(await fire('nightly', '2026-12-01T03:00:00Z')).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^kill-switch: .*incident 7/) });
    } finally {
      await api(stack, 'POST', '/control/kill-switch', { ...admin, body: { engaged: false, reason: 'incident 7 resolved' } });
    }
    expect(await runsOf('nightly')).toHaveLength(0);
    const skipped = (await journalOf('nightly')).filter((event) => event.type === 'TriggerSkipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0].payload?.reason).toMatch(/kill-switch/);
    // The skipped time stays skipped: firing it again after the release creates nothing.
    expect((await fire('nightly', '2026-12-01T03:00:00Z')).outcome).toBe('duplicate');
  });

  it('overlap skip: a second firing while the first run is going creates no run', async () => {
    const first = await fire('nightly', '2026-12-02T03:00:00Z');
    expect(first.outcome).toBe('created');
    const second = await fire('nightly', '2026-12-03T03:00:00Z');
    expect(second).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^overlap: run .* is still/) });
    expect(await runsOf('nightly')).toHaveLength(1);
  });

  it('pausing and resuming are audited API calls; a paused trigger fires nothing', async () => {
    expect((await api(stack, 'POST', '/triggers/nightly-paused/pause', { body: { reason: 'maintenance window' } })).body.trigger.paused).toBe(true);
    expect(await fire('nightly-paused', '2026-12-02T03:00:00Z')).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^paused/) });
    expect((await api(stack, 'POST', '/triggers/nightly-paused/resume', { body: { reason: 'maintenance over' } })).status).toBe(403);
    expect((await api(stack, 'POST', '/triggers/nightly-paused/resume', { ...admin, body: { reason: 'maintenance over' } })).body.trigger.paused).toBe(false);
    expect((await journalOf('nightly-paused')).map((event) => event.type)).toEqual(['TriggerCreated', 'TriggerPaused', 'TriggerSkipped', 'TriggerResumed']);
    expect(await runsOf('nightly-paused')).toHaveLength(0);
    const listed = (await api(stack, 'GET', '/triggers')).body.triggers.map((trigger: { id: string }) => trigger.id);
    expect(listed).toEqual(expect.arrayContaining(['nightly', 'nightly-paused', 'gh-push', 'ci-green']));
  });

  it('refuses a bad trigger naming the field', async () => {
    const bad = await api(stack, 'POST', '/triggers', {
      ...admin,
      body: { id: 'bad', kind: 'schedule', schedule: 'cron(* * * * * *)', template: { name: 'tpl-nightly' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('schedule');
    expect(
      (await api(stack, 'POST', '/triggers', { body: { id: 'x', kind: 'schedule', schedule: 'rate(1 day)', template: { name: 'tpl-nightly' } } })).status,
    ).toBe(403);
    const taken = await api(stack, 'POST', '/triggers', {
      ...admin,
      body: { id: 'nightly', kind: 'schedule', schedule: 'rate(1 day)', template: { name: 'tpl-nightly' } },
    });
    expect(taken.status).toBe(409);
  });
});

describe('a schedule firing cut short (its process killed) between its claim and its settlement', () => {
  const fire = (triggerId: string, scheduledTime: string) => handleTriggerInvocation(stack.deps, { kind: 'schedule', triggerId, scheduledTime });
  /** What the restarted scheduler runs besides the latest scheduled time: the one-minute sweep (the queue, and now unsettled claims). */
  const sweep = () => handleTriggerInvocation(stack.deps, { kind: 'drain' });
  const firing = async (triggerId: string, key: string) => (await firingsOf(triggerId)).find((item) => item.key === key);
  const fired = async (triggerId: string) => (await journalOf(triggerId)).filter((event) => event.type === 'TriggerFired');

  beforeAll(async () => {
    await api(stack, 'POST', '/templates', { ...admin, body: checkTemplate('tpl-cut', { mode: 'PLAN' }) });
    for (const id of ['cut-after-run', 'cut-after-claim', 'cut-young']) {
      const created = await api(stack, 'POST', '/triggers', {
        ...admin,
        body: { id, kind: 'schedule', schedule: 'cron(0 3 * * ? *)', template: { name: 'tpl-cut' } },
      });
      expect(created.status).toBe(201);
    }
  });

  it('killed after its run was created: the next sweep records TriggerFired for that run, creating no second one', async () => {
    const settle = vi.spyOn(stack.deps.triggers, 'settleFiring').mockRejectedValueOnce(new Error('killed before TriggerFired'));
    await expect(fire('cut-after-run', '2026-12-04T03:00:00Z')).rejects.toThrow(/killed/);
    settle.mockRestore();
    const runs = await runsOf('cut-after-run');
    expect(runs).toHaveLength(1);
    // A restart within the minute fires only the latest time (not this one again): the sweep must carry it on.
    await sweep();
    expect(await firing('cut-after-run', 'scheduled:2026-12-04T03:00:00Z')).toMatchObject({ state: 'created', runId: runs[0].id });
    expect((await fired('cut-after-run')).map((event) => event.payload?.runId)).toEqual([runs[0].id]);
    await sweep();
    expect(await runsOf('cut-after-run')).toHaveLength(1);
    expect(await fired('cut-after-run')).toHaveLength(1);
  });

  it('killed after its claim, before its run: a sweep creates the run once the claim is stale, exactly once however many sweeps', async () => {
    const claim = stack.deps.triggers.claimFiring.bind(stack.deps.triggers);
    const claimed = vi.spyOn(stack.deps.triggers, 'claimFiring').mockImplementationOnce(async (input) => {
      // Claimed two minutes ago (longer than a firing can take), then the process died.
      await claim({ ...input, claimedAt: new Date(Date.now() - 120_000).toISOString() });
      throw new Error('killed after the claim');
    });
    await expect(fire('cut-after-claim', '2026-12-04T03:00:00Z')).rejects.toThrow(/killed/);
    claimed.mockRestore();
    expect(await runsOf('cut-after-claim')).toHaveLength(0);
    // Two sweeps at once (two invocations of the minute's tick) carry it on together.
    await Promise.all([sweep(), sweep()]);
    const runs = await runsOf('cut-after-claim');
    expect(runs).toHaveLength(1);
    expect(await firing('cut-after-claim', 'scheduled:2026-12-04T03:00:00Z')).toMatchObject({ state: 'created', runId: runs[0].id });
    expect((await fired('cut-after-claim')).map((event) => event.payload?.runId)).toEqual([runs[0].id]);
    expect(await fire('cut-after-claim', '2026-12-04T03:00:00Z')).toEqual({ outcome: 'duplicate', runId: runs[0].id });
    expect(await runsOf('cut-after-claim')).toHaveLength(1);
  });

  it('a claim younger than a firing can take, with no run, is left to the firing under way until it is stale', async () => {
    const claim = stack.deps.triggers.claimFiring.bind(stack.deps.triggers);
    const claimed = vi.spyOn(stack.deps.triggers, 'claimFiring').mockImplementationOnce(async (input) => {
      await claim(input);
      throw new Error('killed after the claim');
    });
    await expect(fire('cut-young', '2026-12-04T03:00:00Z')).rejects.toThrow(/killed/);
    claimed.mockRestore();
    await sweep();
    expect(await runsOf('cut-young')).toHaveLength(0);
    expect(await firing('cut-young', 'scheduled:2026-12-04T03:00:00Z')).toMatchObject({ state: 'claimed' });
    // Once it counts as stale (here by a staleness of 0), the sweep carries it on.
    await resumeUnsettled(stack.deps, { staleAfterMs: 0 });
    const runs = await runsOf('cut-young');
    expect(runs).toHaveLength(1);
    expect(await firing('cut-young', 'scheduled:2026-12-04T03:00:00Z')).toMatchObject({ state: 'created', runId: runs[0].id });
  });
});
