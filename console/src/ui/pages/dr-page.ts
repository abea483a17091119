import { drProgress } from '../../lib/run-facts.ts';
import { h, show } from '../dom.ts';
import { act, errorBox, field, statusRegion } from '../page-kit.ts';
import type { PageContext } from '../page-kit.ts';

/** DR: a target and its live copy, backups and restores, and a job's progress STAGED → … → COMPLETE. */
export function drPage(ctx: PageContext, jobId?: string): void {
  const targetName = h('input', { type: 'text', required: true, placeholder: 'a target from maestro.config.yaml' });
  const targetView = h('div', { 'aria-live': 'polite' });
  const reason = h('input', { type: 'text', maxlength: 500, placeholder: 'why' });
  const snapshotId = h('input', { type: 'text', placeholder: 'latest when empty' });
  const dryRun = h('input', { type: 'checkbox', id: 'dr-dry-run' });
  const region = statusRegion();
  const look = h('button', { type: 'submit' }, 'Show target');
  const backup = h('button', { type: 'button' }, 'Back up');
  const restore = h('button', { type: 'button', class: 'danger' }, 'Restore');
  const job = h('section', { 'aria-label': 'DR job', 'aria-live': 'polite' });

  const body = () => ({ target: targetName.value.trim(), ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) });
  backup.addEventListener('click', () =>
    act(backup, region, async () => {
      const answer = await ctx.api<{ snapshotId: string }>('POST', '/dr/backup', body());
      ctx.go(`#/dr/${encodeURIComponent(answer.snapshotId)}`);
      return undefined;
    }),
  );
  restore.addEventListener('click', () =>
    act(restore, region, async () => {
      const answer = await ctx.api<{ jobId: string }>('POST', '/dr/restore', {
        ...body(),
        ...(snapshotId.value.trim() ? { snapshotId: snapshotId.value.trim() } : {}),
        ...(dryRun.checked ? { dryRun: true } : {}),
      });
      ctx.go(`#/dr/${encodeURIComponent(answer.jobId)}`);
      return undefined;
    }),
  );
  const form = h(
    'form',
    {
      'aria-label': 'DR target',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void act(look, region, async () => {
          const answer = await ctx.api<Record<string, unknown>>('GET', `/dr/targets/${encodeURIComponent(targetName.value.trim())}`);
          show(targetView, h('pre', null, JSON.stringify(answer, null, 2)));
          return undefined;
        });
      },
    },
    field('Target', 'dr-target', targetName),
    field('Reason', 'dr-reason', reason),
    field('Snapshot id (restore)', 'dr-snapshot', snapshotId),
    h('p', null, dryRun, ' ', h('label', { for: 'dr-dry-run' }, 'Dry run (restore tested, nothing flipped)')),
    h('p', null, look, ' ', backup, ' ', restore),
    region,
  );
  show(ctx.root, h('h1', null, 'Disaster recovery'), form, targetView, job);

  if (!jobId) return;
  ctx.live(async () => {
    try {
      const status = await ctx.api<{ id: string; kind: string; state: string; target: string; error?: { name: string; message: string } }>(
        'GET',
        `/dr/status/${encodeURIComponent(jobId)}`,
      );
      const progress = drProgress(status.kind, status.state);
      show(
        job,
        h('h2', null, `${status.kind} ${status.id} of ${status.target}: ${status.state}`),
        h(
          'ol',
          { class: 'steps' },
          progress.steps.map((step) =>
            h('li', { class: step.current ? 'current' : step.done ? 'done' : 'todo', 'aria-current': step.current ? 'step' : undefined }, step.name),
          ),
        ),
        progress.ended ? h('p', { class: 'error' }, `ended off the path: ${progress.ended}`) : null,
        status.error ? h('p', { class: 'error' }, `${status.error.name}: ${status.error.message}`) : null,
        h('details', null, h('summary', null, 'Job record'), h('pre', null, JSON.stringify(status, null, 2))),
      );
    } catch (error) {
      show(job, errorBox(error));
    }
  }, 1500);
}
