import { describe, expect, it } from 'vitest';
import { backup, waitForDrJob } from '../support/dr.ts';
import { stack, repo, useDrStack } from '../support/dr-fixture.ts';
import { api, until, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

// The demo target lives in `dev`; at ceiling 2 a DEPLOY (the restore's flip) needs a human there.
process.env.MAESTRO_CONFIG__environments__dev__autonomyCeiling = '2';
useDrStack('drappr');

async function restoreWaitingForApproval() {
  const snapshot = await backup(stack);
  const started = await api(stack, 'POST', '/dr/restore', { body: { target: 'demo', snapshotId: snapshot.id, reason: 'restore drill with approval' } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const jobId = started.body.jobId as string;
  let runId = '';
  await until(async () => {
    runId = (await api(stack, 'GET', `/dr/status/${jobId}`)).body.approvalRunId ?? '';
    return runId !== '';
  }, 'the restore to open its approval run');
  const run = await waitForRunWhere(stack, runId, (candidate) => candidate.status === 'AWAITING_APPROVAL', 'the approval run to wait for a human');
  return { jobId, runId, run };
}

describe('a restore that needs a human before it flips traffic', () => {
  it('opens an approval run through the run approval mechanism, and flips only once an approver approves', async () => {
    const before = await repo.getPointer('demo');
    const { jobId, runId, run } = await restoreWaitingForApproval();
    expect(run.tasks[0]).toMatchObject({ action: 'dr.approve-restore', plan: { resource: 'dr://demo' } });
    expect(run.tasks[0].plan.summary).toContain('flip demo');
    expect(await repo.getPointer('demo')).toEqual(before); // nothing flipped while waiting

    const approved = await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: { comment: 'drill verified' } });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect((await waitForRun(stack, runId)).status).toBe('SUCCEEDED');
    const job = await waitForDrJob(stack, jobId);
    expect(job.state).toBe('COMPLETE');
    expect((await repo.getPointer('demo'))?.live.copyId).toBe(job.copy.copyId);
  });

  it('never flips when the approver rejects: the restore fails and the live copy stays', async () => {
    const before = await repo.getPointer('demo');
    const { jobId, runId } = await restoreWaitingForApproval();
    expect((await api(stack, 'POST', `/runs/${runId}/reject`, { token: 'dev-approver', body: { comment: 'wrong snapshot' } })).status).toBe(200);
    expect((await waitForRun(stack, runId)).status).toBe('REJECTED');
    const job = await waitForDrJob(stack, jobId);
    expect(job.state).toBe('FAILED');
    expect(job.approvalOutcome).toBe('REJECTED');
    expect(await repo.getPointer('demo')).toEqual(before);
  });
});
