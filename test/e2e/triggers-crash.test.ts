import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ROOT, spawnStack } from '../support/child-stack.ts';
import type { ChildStack } from '../support/child-stack.ts';
import { api, tempDataDir, until } from '../support/test-stack.ts';

const children: ChildProcess[] = [];

const tablePrefix = `triggers-crash-${randomBytes(3).toString('hex')}-`;

/** The stack in a child process on the shared DynamoDB Local (which outlives the child's SIGKILL, as a real table would). */
function startMaestro(dataDir: string): Promise<ChildStack> {
  return spawnStack({
    args: [join(ROOT, 'test/support/triggers-child.ts')],
    env: { ...process.env, MAESTRO_DATA_DIR: dataDir, TEST_DYNAMODB_URL: inject('dynamodbUrl'), TEST_TABLE_PREFIX: tablePrefix },
    dataDir,
    children,
    // The first start on a loaded machine (DynamoDB Local's JVM among others) can take a while.
    timeoutMs: 180_000,
  });
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** The trigger's runs as GET /runs lists them, with the scheduled time each was fired for. */
async function cronRuns(stack: ChildStack): Promise<{ id: string; firingKey: string }[]> {
  const { body } = await api(stack, 'GET', '/runs?limit=100');
  return body.runs
    .filter((run: { trigger?: { id: string } }) => run.trigger?.id === 'every-minute')
    .map((run: { id: string; trigger: { firingKey: string } }) => ({ id: run.id, firingKey: run.trigger.firingKey }));
}

describe('a cron() trigger across a kill -9', () => {
  it('fires exactly once per tick: the restarted scheduler fires the latest tick again and the firing key refuses it', async () => {
    const dataDir = tempDataDir('triggers-crash');
    const first = await startMaestro(dataDir);
    const template = await api(first, 'POST', '/templates', {
      token: 'dev-admin',
      body: { name: 'minutely-check', goal: 'minutely check', mode: 'PLAN', tasks: [{ action: 'noop', params: { sleepMs: 10 } }] },
    });
    expect(template.status).toBe(201);
    const trigger = await api(first, 'POST', '/triggers', {
      token: 'dev-admin',
      body: { id: 'every-minute', kind: 'schedule', schedule: 'cron(* * * * ? *)', template: { name: 'minutely-check' } },
    });
    expect(trigger.status).toBe(201);
    await until(async () => (await cronRuns(first)).length >= 1, 'the first tick', 90_000);
    const [before] = await cronRuns(first);
    // Killed as soon as that firing's run exists, so possibly before its TriggerFired: the restarted
    // stack's sweep of unsettled claims records it (a restart in the next minute does not fire that time again).
    first.child.kill('SIGKILL');
    await new Promise((done) => first.child.once('exit', done));
    const second = await startMaestro(dataDir);
    // Wait for a tick after the one fired before the crash.
    await until(async () => (await cronRuns(second)).some((run) => run.firingKey > before.firingKey), 'the next tick after the restart', 120_000);
    const runs = await cronRuns(second);
    const keys = runs.map((run) => run.firingKey);
    // One run per scheduled minute: no tick fired twice (before and after the crash), none fired at a non-minute.
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain(before.firingKey);
    for (const key of keys) expect(key).toMatch(/^scheduled:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
    const journal: { type: string; payload?: { key: string } }[] = (await api(second, 'GET', '/triggers/every-minute')).body.journal;
    const fired = journal.filter((event) => event.type === 'TriggerFired').map((event) => event.payload?.key);
    expect(fired.sort()).toEqual([...keys].sort());
    second.child.kill('SIGTERM');
    await new Promise((done) => second.child.once('exit', done));
  }, 300_000);
});
