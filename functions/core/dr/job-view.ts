import type { DrEvent, DrJob } from './model.ts';
import { progressOf } from './model.ts';

/** The status a client sees: `GET /dr/status/{id}`. */
export function drJobView(job: DrJob) {
  return {
    id: job.id,
    kind: job.kind,
    target: job.target,
    state: job.state,
    progress: progressOf(job.steps, job.state),
    verified: job.verified,
    steps: job.steps,
    error: job.error,
    result: job.result,
    ...(job.kind === 'RESTORE'
      ? {
          snapshotId: job.snapshotId,
          manifestVersionId: job.manifestVersionId,
          dryRun: job.dryRun ?? false,
          mode: job.mode,
          report: job.report,
          smokeTests: job.smokeTests,
          copy: job.copy,
          approvalRunId: job.approval?.runId,
          approvalOutcome: job.approval?.outcome,
        }
      : {}),
    reason: job.reason,
    requestedBy: job.requestedBy,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

/** Server-sent events: one `id`/`event`/`data` block per event, and `end` once the job has finished. */
export function toServerSentEvents(events: readonly DrEvent[], finished: DrJob | undefined, retryMs = 2000): string {
  const blocks = [`retry: ${retryMs}\n`];
  for (const event of events) {
    const data = { seq: event.seq, type: event.type, state: event.state, progress: event.progress, message: event.message, ts: event.ts, data: event.data };
    blocks.push(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n`);
  }
  if (finished) blocks.push(`event: end\ndata: ${JSON.stringify({ state: finished.state, progress: 1, verified: finished.verified })}\n`);
  return `${blocks.join('\n')}\n`;
}
