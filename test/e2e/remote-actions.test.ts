import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, tempDataDir, waitForRun } from '../support/test-stack.ts';
import { misbehavingRemoteAction, s3NoteRemoteAction } from '../fixtures/remote-actions/remote-actions.ts';

/**
 * Remote actions through the whole run workflow of the embedded stack: the good one
 * (test/fixtures/remote-actions/s3-note.mjs, a local command using the AWS SDK on the S3 stand-in)
 * plans, applies, verifies and rolls back; one answering garbage ends the run FAILED with
 * ActionProtocolError and nothing written. Effects are counted where they live: object versions.
 */
let stack: EmbeddedStack;
let s3: S3Client;
/** Where fixture.record leaves a line for every call that reached it. */
const recordFile = join(tempDataDir('remote-record'), 'calls.txt');

beforeAll(async () => {
  stack = await startTestStack('remote-actions', {
    extraActions: [
      s3NoteRemoteAction(),
      misbehavingRemoteAction('garbage'),
      misbehavingRemoteAction('exit'),
      misbehavingRemoteAction('record', { env: { RECORD_FILE: recordFile } }),
    ],
  });
  s3 = new S3Client({ forcePathStyle: true });
});
afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
});

async function createRun(tasks: unknown[], goal: string) {
  const response = await api(stack, 'POST', '/runs', { body: { goal, mode: 'APPLY', reasonForAccess: 'remote actions end to end', tasks } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.runId as string;
}
const versionsOf = async (key: string) =>
  ((await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: key }))).Versions ?? []).filter((version) => version.Key === key);
const bodyOf = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: key }))).Body!.transformToString();
const eventsOf = async (runId: string) => (await api(stack, 'GET', `/runs/${runId}/events`)).body.events as { type: string; payload?: any }[];

describe('a remote action served by a local command', () => {
  it('plans, applies once and verifies: the run SUCCEEDS with the object written by the command', async () => {
    const key = 'remote/e2e-note.txt';
    const runId = await createRun(
      [{ action: 'fixture.s3-note', params: { bucket: stack.demoBucket, key, text: 'written by a remote action\n' } }],
      'remote note',
    );
    const run = await waitForRun(stack, runId, 90_000);
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    expect(run.tasks[0].status).toBe('VERIFIED');
    expect(run.tasks[0].plan).toMatchObject({ change: 'create', resource: `s3://${stack.demoBucket}/${key}` });
    expect(run.tasks[0].plan.diff).toContain('+written by a remote action');

    expect(await bodyOf(key)).toBe('written by a remote action\n');
    const versions = await versionsOf(key);
    expect(versions).toHaveLength(1);
    const head = await s3.send(new HeadObjectCommand({ Bucket: stack.demoBucket, Key: key }));
    expect(head.Metadata?.['maestro-idempotency-key']).toBe(run.tasks[0].idempotencyKey);
    // Not re-isolated in the sandbox: the command is its own process.
    expect(run.tasks[0].outcome).toEqual({ versionId: versions[0].VersionId });
  });

  it('rolls back when a later task fails verification: the object it created is gone again', async () => {
    const key = 'remote/e2e-rolled-back.txt';
    const runId = await createRun(
      [
        { action: 'fixture.s3-note', params: { bucket: stack.demoBucket, key, text: 'soon undone\n' } },
        { action: 'noop', params: { failIn: 'verify' } },
      ],
      'remote note rolled back',
    );
    const run = await waitForRun(stack, runId, 90_000);
    expect(run.status).toBe('ROLLED_BACK');
    expect(run.tasks[0].status).toBe('ROLLED_BACK');
    // One version written, then a delete marker: nothing current.
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: key }));
    expect(listed.Versions ?? []).toHaveLength(1);
    expect((listed.DeleteMarkers ?? []).filter((marker) => marker.IsLatest)).toHaveLength(1);
  });
});

describe('a remote action that breaks the protocol', () => {
  it('answering garbage: the run ends FAILED with ActionProtocolError, and nothing is applied', async () => {
    const key = 'remote/e2e-garbage.txt';
    const runId = await createRun([{ action: 'fixture.garbage', params: { bucket: stack.demoBucket, key, text: 'must not be written\n' } }], 'garbage');
    const run = await waitForRun(stack, runId, 90_000);
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'ActionProtocolError' });
    expect(run.error.message).toMatch(/remote action fixture\.garbage \(plan\): the reply is not JSON/);

    const events = await eventsOf(runId);
    const failed = events.find((event) => event.type === 'TaskPlanFailed');
    expect(failed?.payload.error).toMatchObject({ name: 'ActionProtocolError', category: 'dependency' });
    expect(events.map((event) => event.type)).not.toContain('TaskApplying');
    expect(events.map((event) => event.type)).not.toContain('TaskApplied');
    expect(await versionsOf(key)).toHaveLength(0);
  });

  it('exiting non-zero: FAILED, the command’s standard error in the recorded error, nothing applied', async () => {
    const key = 'remote/e2e-exit.txt';
    const runId = await createRun([{ action: 'fixture.exit', params: { bucket: stack.demoBucket, key, text: 'x' } }], 'exit');
    const run = await waitForRun(stack, runId, 90_000);
    expect(run.status).toBe('FAILED');
    expect(run.error.name).toBe('ActionProtocolError');
    expect(run.error.message).toContain('exited with status 3: something broke');
    expect(await versionsOf(key)).toHaveLength(0);
  });
});

describe('the gates decide before the remote code runs', () => {
  it('a resource outside the managed set: DENIED with ResourceNotManaged, and the command never ran', async () => {
    const runId = await createRun([{ action: 'fixture.record', params: { bucket: 'not-managed-bucket', key: 'x.txt', text: 'x' } }], 'unmanaged');
    const run = await waitForRun(stack, runId, 90_000);
    expect(run.status).toBe('DENIED');
    expect(run.error.name).toBe('ResourceNotManaged');
    expect(existsSync(recordFile)).toBe(false);

    // The same action on a managed resource does reach its command (the trace works).
    const reached = await waitForRun(
      stack,
      await createRun([{ action: 'fixture.record', params: { bucket: stack.demoBucket, key: 'remote/recorded.txt', text: 'x' } }], 'managed'),
      90_000,
    );
    expect(reached.status).toBe('FAILED');
    expect(reached.error).toMatchObject({ name: 'ActionFailed' });
    expect(readFileSync(recordFile, 'utf8')).toBe('plan\n');
  });
});
