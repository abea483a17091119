import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/net.ts';
import { ROOT, spawnStack } from '../support/child-stack.ts';
import type { ChildStack } from '../support/child-stack.ts';
import { api, tempDataDir, waitForRun } from '../support/test-stack.ts';

const children: ChildProcess[] = [];

/** `npm start` as a user runs it (same entry point), on a data directory of the test's own. */
function startMaestro(dataDir: string, port = 0): Promise<ChildStack> {
  return spawnStack({
    args: [join(ROOT, 'local/main.ts')],
    env: {
      ...process.env,
      MAESTRO_DATA_DIR: dataDir,
      MAESTRO_PORT: String(port),
      MAESTRO_DEMO: '0',
      AWS_ENDPOINT_URL_DYNAMODB: '',
      AWS_ENDPOINT_URL_S3: '',
      AWS_ENDPOINT_URL_SFN: '',
      AWS_ENDPOINT_URL_KMS: '',
    },
    dataDir,
    children,
  });
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('a restart never loses a run', () => {
  it('carries on a run that was applying when the stack was SIGKILLed, from its last step, without applying twice', async () => {
    const dataDir = tempDataDir('crash');
    const first = await startMaestro(dataDir);
    const created = await api(first, 'POST', '/runs', {
      body: {
        goal: 'survive a crash',
        mode: 'APPLY',
        reasonForAccess: 'end-to-end test of the run workflow',
        tasks: [
          { action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'crash/before.txt', body: 'written before the crash\n' } },
          { action: 'noop', params: { sleepMs: 4000 } },
          { action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'crash/after.txt', body: 'written after the restart\n' } },
        ],
      },
    });
    expect(created.status).toBe(201);
    const runId = created.body.runId;
    for (;;) {
      const { body } = await api(first, 'GET', `/runs/${runId}`);
      if (body.run.tasks[1].status === 'APPLYING') break;
      await sleep(50);
    }
    first.child.kill('SIGKILL');
    await new Promise((done) => first.child.once('exit', done));

    const second = await startMaestro(dataDir);
    const run = await waitForRun(second, runId, 60_000);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.map((task: { status: string }) => task.status)).toEqual(['VERIFIED', 'VERIFIED', 'VERIFIED']);
    const events: { type: string; taskIndex?: number }[] = (await api(second, 'GET', `/runs/${runId}/events`)).body.events;
    // Task 0 was applied once, before the crash; task 1 was caught mid-apply and applied again.
    expect(events.filter((event) => event.type === 'TaskApplied' && event.taskIndex === 0)).toHaveLength(1);
    expect(events.filter((event) => event.type === 'TaskApplying' && event.taskIndex === 0)).toHaveLength(1);
    expect(events.filter((event) => event.type === 'TaskApplying' && event.taskIndex === 1)).toHaveLength(2);
    expect(events.filter((event) => event.type === 'RunAdmitted')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('RunSucceeded');

    // The earlier runs are still listed after a graceful restart, too.
    second.child.kill('SIGTERM');
    await new Promise((done) => second.child.once('exit', done));
    const third = await startMaestro(dataDir);
    const listed = await api(third, 'GET', '/runs');
    expect(listed.body.runs.map((listedRun: { id: string }) => listedRun.id)).toContain(runId);
    third.child.kill('SIGTERM');
    await new Promise((done) => third.child.once('exit', done));
  }, 180_000);

  it('keeps a run parked for approval across a SIGKILL: the links sent still work and nobody is notified twice', async () => {
    const dataDir = tempDataDir('parked');
    const port = await freePort();
    const first = await startMaestro(dataDir, port);
    const created = await api(first, 'POST', '/runs', {
      body: {
        goal: 'wait for a human across a crash',
        mode: 'APPLY',
        environment: 'prod',
        reasonForAccess: 'crash test of the approval gate',
        tasks: [{ action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'crash/approved.txt', body: 'approved\n' } }],
      },
    });
    const runId = created.body.runId;
    for (;;) {
      const { body } = await api(first, 'GET', `/runs/${runId}`);
      if (body.run.approval?.notifiedAt) break;
      await sleep(50);
    }
    const requests = () =>
      readFileSync(join(dataDir, 'notifications.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.runId === runId && entry.kind === 'approval-request');
    const sent = requests();
    expect(sent).toHaveLength(3); // Slack, and one email per approver
    const link = sent.find((entry) => entry.channel === 'email' && entry.links[0].approver === 'dev-approver').links[0].url;
    first.child.kill('SIGKILL');
    await new Promise((done) => first.child.once('exit', done));

    const second = await startMaestro(dataDir, port);
    for (;;) {
      const { body } = await api(second, 'GET', `/runs/${runId}/events`);
      if (body.events.some((event: { type: string }) => event.type === 'ApprovalWaitResumed')) break;
      await sleep(50);
    }
    const decided = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'decision=approve' });
    expect(decided.status).toBe(200);
    const run = await waitForRun(second, runId, 60_000);
    expect(run.status).toBe('SUCCEEDED');
    expect(requests()).toHaveLength(3);
    second.child.kill('SIGTERM');
    await new Promise((done) => second.child.once('exit', done));
  }, 180_000);
});
