import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, until, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

let stack: EmbeddedStack;
let s3: S3Client;
beforeAll(async () => {
  stack = await startTestStack('drift');
  s3 = new S3Client({ forcePathStyle: true });
});
afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
});

const put = (key: string, body: string) => ({ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body } });
const sweep = async (environment: string) => {
  const response = await api(stack, 'POST', '/drift/sweeps', { body: { environment } });
  expect(response.status).toBe(200);
  return response.body;
};
const tamper = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: key, Body: body }));
const read = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: key }))).Body!.transformToString();
const driftEvents = (findingId: string) =>
  stack.eventBridge.delivered().filter((event) => event.DetailType === 'DriftDetected' && (event.Detail as { id: string }).id === `${findingId}#0`);

async function succeededRun(environment: string, key: string, body: string) {
  const created = await api(stack, 'POST', '/runs', {
    body: { goal: `write ${key}`, mode: 'APPLY', environment, reasonForAccess: 'drift detection test', tasks: [put(key, body)] },
  });
  expect(created.status).toBe(201);
  if (environment === 'prod') {
    await waitForRunWhere(stack, created.body.runId, (run) => run.status === 'AWAITING_APPROVAL', 'parked for approval');
    expect((await api(stack, 'POST', `/runs/${created.body.runId}/approve`, { token: 'dev-approver', body: {} })).status).toBe(200);
  }
  const run = await waitForRun(stack, created.body.runId);
  expect(run.status).toBe('SUCCEEDED');
  return run.id as string;
}

describe('drift detection', () => {
  it('finds an out-of-band change once (with its diff), announces it once, and sees it again without a second finding', async () => {
    const runId = await succeededRun('dev', 'drift/dev.txt', 'applied by maestro\n');
    const clean = await sweep('dev');
    expect(clean.detected).toEqual([]);
    expect(clean.checked).toBeGreaterThanOrEqual(1);

    await tamper('drift/dev.txt', 'changed by hand\n');
    const first = await sweep('dev');
    expect(first.detected).toHaveLength(1);
    const [finding] = first.detected;
    expect(finding).toMatchObject({ environment: 'dev', resource: `s3://${stack.demoBucket}/drift/dev.txt`, status: 'OPEN', runId, change: 'update' });
    expect(finding.id).toMatch(/^drift-[0-9a-f]{32}$/);
    expect(finding.diff).toContain('-changed by hand');
    expect(finding.diff).toContain('+applied by maestro');

    // Seen again by later sweeps: the same finding, nothing new recorded or announced.
    const second = await sweep('dev');
    expect(second.detected).toEqual([]);
    expect(second.stillDrifted).toEqual([finding.id]);
    const listed = await api(stack, 'GET', '/drift?environment=dev');
    expect(listed.status).toBe(200);
    expect(listed.body.findings.filter((f: { resource: string }) => f.resource === finding.resource).map((f: { id: string }) => f.id)).toEqual([finding.id]);
    const one = await api(stack, 'GET', `/drift/${finding.id}`);
    expect(one.status).toBe(200);
    expect(one.body.finding).toMatchObject({ id: finding.id, diff: finding.diff, lastSeenAt: second.sweptAt });

    // Exactly one DriftDetected reaches EventBridge, carrying the diff and the id receivers dedupe on.
    await until(async () => driftEvents(finding.id).length > 0, 'DriftDetected delivered');
    await sweep('dev');
    const delivered = driftEvents(finding.id);
    expect(delivered).toHaveLength(1);
    expect(delivered[0].Detail).toMatchObject({
      id: `${finding.id}#0`,
      type: 'DriftDetected',
      runId,
      environment: 'dev',
      payload: { findingId: finding.id, diff: finding.diff },
    });

    // Drifting on to another state is a new finding; the old one is superseded.
    await tamper('drift/dev.txt', 'changed by hand, twice\n');
    const third = await sweep('dev');
    expect(third.detected).toHaveLength(1);
    expect(third.detected[0].id).not.toBe(finding.id);
    expect(third.resolved).toEqual([finding.id]);
    expect((await api(stack, 'GET', `/drift/${finding.id}`)).body.finding).toMatchObject({ status: 'RESOLVED', resolution: 'superseded' });

    // Put back by hand: in sync again, the open finding resolves.
    await tamper('drift/dev.txt', 'applied by maestro\n');
    const fourth = await sweep('dev');
    expect(fourth.detected).toEqual([]);
    expect(fourth.resolved).toEqual([third.detected[0].id]);
  });

  it('remediates a prod finding through a gated run that parks for approval, once however often it is asked', async () => {
    const runId = await succeededRun('prod', 'drift/prod.txt', 'prod as applied\n');
    await tamper('drift/prod.txt', 'prod changed by hand\n');
    const { detected } = await sweep('prod');
    expect(detected).toHaveLength(1);
    const finding = detected[0];
    expect(finding.runId).toBe(runId);

    const remediated = await api(stack, 'POST', `/drift/${finding.id}/remediate`, { body: { reason: 'put prod back as reviewed' } });
    expect(remediated.status).toBe(201);
    expect(remediated.body.finding).toMatchObject({ status: 'REMEDIATING', remediation: { requestedBy: 'dev-operator', runId: remediated.body.runId } });
    const parked = await waitForRunWhere(stack, remediated.body.runId, (run) => run.status === 'AWAITING_APPROVAL', 'remediation parked for approval');
    expect(parked).toMatchObject({ environment: 'prod', mode: 'APPLY', requestedBy: 'dev-operator', reasonForAccess: 'put prod back as reviewed' });
    // Nothing applied while it waits.
    expect(await read('drift/prod.txt')).toBe('prod changed by hand\n');

    // Asked again (by anyone): the same run, no second one.
    const again = await api(stack, 'POST', `/drift/${finding.id}/remediate`, { token: 'dev-admin', body: { reason: 'put prod back as reviewed' } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ runId: remediated.body.runId, created: false });
    // While the remediation waits, a sweep leaves the finding as it is.
    const waiting = await sweep('prod');
    expect(waiting.detected).toEqual([]);
    expect(waiting.skipped).toContainEqual({ resource: finding.resource, reason: `run ${remediated.body.runId} is changing it` });

    expect((await api(stack, 'POST', `/runs/${remediated.body.runId}/approve`, { token: 'dev-approver', body: {} })).status).toBe(200);
    expect((await waitForRun(stack, remediated.body.runId)).status).toBe('SUCCEEDED');
    expect(await read('drift/prod.txt')).toBe('prod as applied\n');
    const after = await sweep('prod');
    expect(after.detected).toEqual([]);
    expect(after.resolved).toEqual([finding.id]);
    expect((await api(stack, 'GET', `/drift/${finding.id}`)).body.finding).toMatchObject({ status: 'RESOLVED', resolution: 'in-sync' });
    const resolvedAgain = await api(stack, 'POST', `/drift/${finding.id}/remediate`, { body: { reason: 'put prod back as reviewed' } });
    expect(resolvedAgain.status).toBe(409);
    expect(resolvedAgain.body.error.code).toBe('DriftNotRemediable');
  });

  it('refuses bad requests with a 4xx naming the field, and remediation to callers without the operator role', async () => {
    const unknownEnvironment = await api(stack, 'POST', '/drift/sweeps', { body: { environment: 'nowhere' } });
    expect(unknownEnvironment.status).toBe(400);
    expect(unknownEnvironment.body.error.field).toBe('environment');
    const extra = await api(stack, 'POST', '/drift/sweeps', { body: { environment: 'dev', everything: true } });
    expect(extra.status).toBe(400);
    const badId = await api(stack, 'GET', '/drift/constructor');
    expect(badId.status).toBe(400);
    expect(badId.body.error.field).toBe('id');
    const missing = await api(stack, 'GET', `/drift/drift-${'0'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('DriftFindingNotFound');
    const missingRemediation = await api(stack, 'POST', `/drift/drift-${'0'.repeat(32)}/remediate`, { body: { reason: 'a long enough reason' } });
    expect(missingRemediation.status).toBe(404);

    await succeededRun('dev', 'drift/guards.txt', 'as applied\n');
    await tamper('drift/guards.txt', 'by hand\n');
    const [finding] = (await sweep('dev')).detected;
    const noReason = await api(stack, 'POST', `/drift/${finding.id}/remediate`, { body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.field).toBe('reason');
    const shortReason = await api(stack, 'POST', `/drift/${finding.id}/remediate`, { body: { reason: 'fix' } });
    expect(shortReason.status).toBe(400);
    expect(shortReason.body.error.field).toBe('reason');
    const approverOnly = await api(stack, 'POST', `/drift/${finding.id}/remediate`, { token: 'dev-approver', body: { reason: 'an approver may not ask' } });
    expect(approverOnly.status).toBe(403);
    const sweepAsApprover = await api(stack, 'POST', '/drift/sweeps', { token: 'dev-approver', body: { environment: 'dev' } });
    expect(sweepAsApprover.status).toBe(403);
    // None of the refusals touched the finding.
    expect((await api(stack, 'GET', `/drift/${finding.id}`)).body.finding.status).toBe('OPEN');
  });
});
