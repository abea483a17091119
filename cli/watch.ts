import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, ExitCode } from './client.ts';
import type { ApiClient } from './client.ts';
import type { Output } from './output.ts';

/** Statuses a run ends in. PLANNED ends a PLAN run once it is finalized (finishedAt). */
export const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'REJECTED', 'EXPIRED', 'CANCELLED', 'DENIED']);
/** The outcomes that count as success: an APPLY run that succeeded, a PLAN run that planned. */
const SUCCESS = new Set(['SUCCEEDED', 'PLANNED']);

// biome-ignore lint/suspicious/noExplicitAny: a run as the API shows it (response-schemas.ts RunView), read field by field
export type RunBody = Record<string, any>;

interface RunEvent {
  seq: number;
  type: string;
  message: string;
  taskIndex?: number;
}

export const isFinished = (run: RunBody) => FINISHED.has(run.status) || (run.status === 'PLANNED' && Boolean(run.finishedAt));
export const exitCodeOf = (run: RunBody) => (SUCCESS.has(run.status) ? ExitCode.ok : ExitCode.refused);

/**
 * Follows a run until it ends, as `npm start` shows one: each status a poll finds it in (a quick step may
 * pass between two polls), then every event recorded since, on stderr. Returns the finished run (with its tasks).
 */
export async function watchRun(
  client: ApiClient,
  out: Output,
  runId: string,
  options: { intervalMs?: number; timeoutSeconds?: number } = {},
): Promise<RunBody> {
  const path = `/runs/${encodeURIComponent(runId)}`;
  const interval = options.intervalMs ?? 250;
  const deadline = options.timeoutSeconds ? Date.now() + options.timeoutSeconds * 1000 : Number.POSITIVE_INFINITY;
  let afterSeq = 0;
  let shown: string | undefined;
  let approvalShown = false;
  for (;;) {
    const { run } = await client.call<{ run: RunBody }>('GET', path);
    const { events } = await client.call<{ events: RunEvent[] }>('GET', `${path}/events?afterSeq=${afterSeq}`);
    if (run.status !== shown) {
      out.progress(`  ▸ ${out.status(run.status, 'err')}`);
      shown = run.status;
    }
    for (const event of events) {
      afterSeq = event.seq;
      const task = event.taskIndex === undefined ? '' : `task ${event.taskIndex}: `;
      out.progress(`      ${String(event.seq).padStart(3)} ${event.type.padEnd(21)} ${task}${event.message}`);
    }
    if (run.status === 'AWAITING_APPROVAL' && run.approval && !approvalShown) {
      approvalShown = true;
      out.progress(
        `  waiting for ${run.approval.quorum ?? 1} approval(s) from ${(run.approval.approvers ?? []).join(', ')} until ${run.approval.deadline}: maestro approve ${runId}`,
      );
    }
    if (isFinished(run)) {
      // The events of the last step may land just after the status: read them once more.
      const rest = await client.call<{ events: RunEvent[] }>('GET', `${path}/events?afterSeq=${afterSeq}`);
      for (const event of rest.events) {
        const task = event.taskIndex === undefined ? '' : `task ${event.taskIndex}: `;
        out.progress(`      ${String(event.seq).padStart(3)} ${event.type.padEnd(21)} ${task}${event.message}`);
      }
      return run;
    }
    if (Date.now() > deadline)
      throw new CliError(`run ${runId} is still ${run.status} after ${options.timeoutSeconds} s (it goes on; watch it again)`, ExitCode.refused);
    await sleep(interval);
  }
}
