import type { LinkSigner } from '../approvals/links.ts';
import { sealTaskToken, unsealTaskToken } from '../approvals/sealed-token.ts';
import { DrInvalidTransition, DrJobNotFound } from '../errors.ts';
import type { RunDeps } from '../runs/deps.ts';
import { createRun } from '../runs/create-run.ts';
import type { WorkflowEngine } from '../runs/ports.ts';
import { appliesUnattended } from '../safety/autonomy.ts';
import { stepStarted, stepSucceeded } from './jobs.ts';
import type { DrDeps, DrRepository, RestoreGate } from './ports.ts';
import { own } from '../own.ts';

/** The catalog action whose run carries a restore's approval. */
export const RESTORE_APPROVAL_ACTION = 'dr.approve-restore';

/**
 * A restore waits for a human before it flips traffic when its target's environment would not let a
 * DEPLOY apply unattended. The approval is the run approval mechanism itself: the gate opens a Maestro
 * run with one `dr.approve-restore` task, so policy, autonomy, approvers, quorum, signed links and
 * deadlines all apply; the run's apply resumes the restore, and a run that ends any other way fails it.
 */
export async function requestRestoreApproval(
  runDeps: RunDeps,
  drDeps: DrDeps,
  input: { jobId: string; correlationId: string; taskToken: string },
): Promise<{ approvalRunId?: string }> {
  const job = await drDeps.repo.getJob(input.jobId);
  if (!job) throw new DrJobNotFound(`restore job ${input.jobId} does not exist`);
  const target = drDeps.targets.find((candidate) => candidate.name === job.target);
  const environment = target?.environment ?? 'dev';
  const ceiling = own(runDeps.guardrails.environments, environment)?.autonomyCeiling ?? 0;
  const sealed = await sealTaskToken(runDeps.linkSigner, job.id, input.taskToken);

  if (job.approval?.runId) {
    // A restart re-entered the wait with a new token: keep the approval run, replace the sealed token.
    await drDeps.repo.updateJob(job.id, (current) => ({
      job: { approval: { ...current.approval!, tokenHash: sealed.hash, tokenSealed: sealed.sealed } },
      events: [{ type: 'AwaitApprovalResumed', message: `still waiting for approval run ${job.approval!.runId}` }],
    }));
    return { approvalRunId: job.approval.runId };
  }
  if (appliesUnattended('DEPLOY', ceiling, false)) {
    await stepSucceeded(drDeps, job.id, 'AwaitApproval', `approved by policy: ${environment} lets a restore flip unattended`);
    await runDeps.engine.completeWait(input.taskToken, { approved: true, approvedBy: 'policy' });
    return {};
  }

  await stepStarted(drDeps, job.id, 'AwaitApproval', undefined, `waiting for a human to approve the flip in ${environment}`);
  await drDeps.repo.updateJob(job.id, () => ({ job: { approval: { tokenHash: sealed.hash, tokenSealed: sealed.sealed } }, events: [] }));
  const created = await createRun(runDeps, {
    body: {
      goal: `Flip ${job.target} to the copy restored from snapshot ${job.snapshotId ?? job.manifestVersionId ?? '?'} (restore ${job.id})`,
      mode: 'APPLY',
      environment,
      reasonForAccess: job.reason.length >= runDeps.guardrails.reasonForAccess.minLength ? job.reason : `disaster recovery restore: ${job.reason}`,
      tasks: [{ action: RESTORE_APPROVAL_ACTION, params: { jobId: job.id } }],
    },
    principal: { id: job.requestedBy, roles: ['operator'] },
    correlationId: input.correlationId,
    idempotencyKey: `restore-approval-${job.id}`,
  });
  await drDeps.repo.updateJob(job.id, (current) => ({
    job: { approval: { ...current.approval!, runId: created.runId } },
    events: [
      {
        type: 'ApprovalRequested',
        message: `approval run ${created.runId} asks ${environment}'s approvers to let the restore flip traffic`,
        data: { runId: created.runId },
      },
    ],
  }));
  return { approvalRunId: created.runId };
}

/** The restore gate over the DR job store and the workflow engine (the wait token is unsealed with KMS). */
export function createRestoreGate(deps: {
  repo: DrRepository;
  engine: Pick<WorkflowEngine, 'completeWait' | 'failWait'>;
  linkSigner: LinkSigner;
  targets: DrDeps['targets'];
}): RestoreGate {
  const waiting = async (jobId: string) => {
    const job = await deps.repo.getJob(jobId);
    if (!job) throw new DrJobNotFound(`restore job ${jobId} does not exist`);
    if (!job.approval?.tokenSealed) throw new DrInvalidTransition(`restore job ${jobId} is not waiting for approval`);
    const token = await unsealTaskToken(deps.linkSigner, job.id, { hash: job.approval.tokenHash, sealed: job.approval.tokenSealed });
    return { job, token };
  };
  return {
    async describe(jobId) {
      const job = await deps.repo.getJob(jobId);
      if (!job) throw new DrJobNotFound(`restore job ${jobId} does not exist`);
      const pointer = await deps.repo.getPointer(job.target);
      return {
        target: job.target,
        snapshotId: job.snapshotId,
        from: pointer?.live.copyId ?? 'origin',
        to: job.copy?.copyId,
        environment: deps.targets.find((candidate) => candidate.name === job.target)?.environment,
      };
    },
    async resume(jobId) {
      const { job, token } = await waiting(jobId);
      await deps.engine.completeWait(token, { approved: true, approvalRunId: job.approval?.runId });
      await deps.repo.updateJob(jobId, (current) => ({
        job: { approval: { ...current.approval!, outcome: 'APPROVED' } },
        events: [{ type: 'AwaitApprovalSucceeded', message: `approved in run ${current.approval?.runId}` }],
      }));
    },
    async abandon(jobId, runStatus) {
      const { token } = await waiting(jobId);
      await deps.engine.failWait(token, runStatus === 'EXPIRED' ? 'ApprovalExpired' : 'ApprovalRejected', `the approval run ended ${runStatus}`);
      await deps.repo.updateJob(jobId, (current) => ({
        job: { approval: { ...current.approval!, outcome: runStatus } },
        events: [{ type: 'AwaitApprovalFailed', message: `the approval run ended ${runStatus}; the restore will not flip` }],
      }));
    },
  };
}
