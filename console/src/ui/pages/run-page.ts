import { approvalSummary, canCancel, canDecide, canRollBack, isFinished, verdictLines } from '../../lib/run-facts.ts';
import type { RunSummaryView } from '../../lib/run-facts.ts';
import { diffView } from '../diff-view.ts';
import { h, show } from '../dom.ts';
import type { Child } from '../dom.ts';
import { act, badge, errorBox, field, statusRegion, time } from '../page-kit.ts';
import type { PageContext } from '../page-kit.ts';

interface TaskView {
  index: number;
  action: string;
  status: string;
  params: Record<string, unknown>;
  plan?: { summary: string; change: string; resource: string; diff: string };
  verdicts?: unknown;
  outcome?: Record<string, unknown>;
  error?: { name: string; message: string };
}
interface RunView extends RunSummaryView {
  reasonForAccess?: string;
  autonomy: number;
  error?: { name: string; message: string };
  tasks?: TaskView[];
}
interface EventView {
  seq: number;
  ts: string;
  type: string;
  message: string;
  actor?: string;
  level?: string;
}

/** One run: what it is, its approval, its tasks' diffs and verdicts, its timeline; live until it finishes. */
export function runPage(ctx: PageContext, runId: string): void {
  const path = `/runs/${encodeURIComponent(runId)}`;
  const header = h('section', { 'aria-label': 'run' });
  const approval = h('section', { class: 'approval', 'aria-labelledby': 'approval-title' });
  const controls = h('section', { class: 'controls', 'aria-label': 'run controls' });
  const tasks = h('section', { 'aria-labelledby': 'tasks-title' });
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'timeline of events' });
  const problem = h('div', { 'aria-live': 'polite' });
  const audit = auditPanel(ctx, runId);
  let run: RunView | undefined;
  let tasksSignature = '';
  let afterSeq = 0;

  // Forms are made once and attached or detached as the run changes, so what a person types survives a refresh.
  const comment = h('textarea', { rows: 2, cols: 60, maxlength: 1000 });
  const decisionRegion = statusRegion();
  const approve = h('button', { type: 'button', onclick: () => decide('approve') }, 'Approve');
  const reject = h('button', { type: 'button', class: 'danger', onclick: () => decide('reject') }, 'Reject');
  const decisionForm = h(
    'form',
    { class: 'decision', 'aria-label': 'decide', onsubmit: (event: Event) => event.preventDefault() },
    field('Comment', 'decision-comment', comment),
    h('p', null, approve, ' ', reject),
  );
  const decide = (decision: 'approve' | 'reject') =>
    act(decision === 'approve' ? approve : reject, decisionRegion, async () => {
      const text = comment.value.trim();
      await ctx.api('POST', `${path}/${decision}`, text ? { comment: text } : {});
      comment.value = '';
      await refresh();
      return decision === 'approve' ? 'Approved.' : 'Rejected.';
    });

  const controlRegion = statusRegion();
  const cancel = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onclick: () =>
        act(cancel, controlRegion, async () => {
          await ctx.api('POST', `${path}/cancel`, {});
          await refresh();
          return 'Cancel requested.';
        }),
    },
    'Cancel run',
  );
  const resume = h(
    'button',
    {
      type: 'button',
      onclick: () =>
        act(resume, controlRegion, async () => {
          await ctx.api('POST', `${path}/resume`);
          await refresh();
          return 'Resumed.';
        }),
    },
    'Resume',
  );
  const rollbackReason = h('input', { type: 'text', maxlength: 1000, placeholder: 'why undo it' });
  const rollback = h('button', { type: 'submit' }, 'Roll back this run');
  const rollbackForm = h(
    'form',
    {
      class: 'rollback',
      'aria-label': 'roll back',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void act(rollback, controlRegion, async () => {
          const reason = rollbackReason.value.trim();
          const created = await ctx.api<{ runId: string }>('POST', `${path}/rollback`, reason ? { reason } : {});
          ctx.go(`#/runs/${encodeURIComponent(created.runId)}`);
          return undefined;
        });
      },
    },
    field('Reason for the rollback', 'rollback-reason', rollbackReason),
    h('p', null, rollback),
  );

  show(
    ctx.root,
    h('p', null, h('a', { href: '#/runs' }, '← all runs')),
    problem,
    header,
    approval,
    controls,
    h('h2', { id: 'tasks-title' }, 'Tasks'),
    tasks,
    h('h2', null, 'Timeline'),
    timeline,
    audit,
  );

  function renderHeader(current: RunView): void {
    show(
      header,
      h('h1', { class: 'goal' }, current.goal),
      h(
        'dl',
        { class: 'facts' },
        fact('Status', badge(current.status)),
        fact('Run', current.id),
        fact('Environment', current.environment),
        fact('Mode', current.mode),
        fact('Autonomy', String(current.autonomy)),
        fact('Requested by', current.requestedBy),
        fact('Reason', current.reasonForAccess ?? '—'),
        fact('Created', time(current.createdAt)),
        fact('Finished', time(current.finishedAt)),
        fact('Correlation id', current.correlationId ?? '—'),
        current.rollbackOf ? fact('Rolls back', h('a', { href: `#/runs/${encodeURIComponent(current.rollbackOf)}` }, current.rollbackOf)) : null,
        current.rolledBackBy ? fact('Rolled back by', h('a', { href: `#/runs/${encodeURIComponent(current.rolledBackBy)}` }, current.rolledBackBy)) : null,
      ),
      current.error ? h('p', { class: 'error' }, `${current.error.name}: ${current.error.message}`) : null,
    );
  }

  // The sections' moving parts are updated in place, and the forms attached or detached, so that
  // the focus and what a person types survive the refresh every second.
  const approvalSummaryText = h('p', { class: 'approval-summary' });
  const approvalDeadline = h('p', { class: 'muted' });
  const decisions = h('ul', { class: 'decisions' });
  const decisionSlot = h('div');
  approval.append(h('h2', { id: 'approval-title' }, 'Approval'), approvalSummaryText, approvalDeadline, decisions, decisionSlot, decisionRegion);
  const cancelSlot = h('p');
  const resumeSlot = h('p');
  const rollbackSlot = h('div');
  controls.append(h('h2', null, 'Actions'), cancelSlot, resumeSlot, rollbackSlot, controlRegion);

  function renderApproval(current: RunView): void {
    const state = current.approval;
    approvalSummaryText.textContent = state ? `${state.state}: ${approvalSummary(state)}` : approvalSummary(undefined);
    show(approvalDeadline, state ? ['Deadline ', time(state.deadline)] : null);
    show(
      decisions,
      (state?.decisions ?? []).map((d) =>
        h(
          'li',
          null,
          `${d.decision === 'approve' ? 'approved' : 'rejected'} by ${d.by}${d.email ? ` <${d.email}>` : ''} via ${d.via ?? '?'} at `,
          time(d.at),
          d.comment ? [' ', h('q', null, d.comment)] : null,
        ),
      ),
    );
    place(decisionSlot, decisionForm, canDecide(current, ctx.session.me));
  }

  function renderControls(current: RunView): void {
    place(cancelSlot, cancel, canCancel(current));
    place(resumeSlot, resume, !isFinished(current));
    place(rollbackSlot, rollbackForm, canRollBack(current));
  }

  function renderTasks(current: RunView): void {
    const signature = JSON.stringify(current.tasks ?? []);
    if (signature === tasksSignature) return;
    show(
      tasks,
      (current.tasks ?? []).map((task) =>
        h(
          'article',
          { class: 'task', 'data-task-index': task.index },
          h('h3', null, `Task ${task.index}: `, h('code', null, task.action), ' ', badge(task.status)),
          task.plan
            ? h('p', null, task.plan.summary, ' ', h('small', { class: 'muted' }, `(${task.plan.change} ${task.plan.resource})`))
            : h('p', { class: 'muted' }, 'not planned yet'),
          task.plan ? diffView(task.plan.diff) : null,
          verdictTable(task.verdicts),
          task.error ? h('p', { class: 'error' }, `${task.error.name}: ${task.error.message}`) : null,
          task.outcome ? h('details', null, h('summary', null, 'Outcome'), h('pre', null, JSON.stringify(task.outcome, null, 2))) : null,
        ),
      ),
    );
    tasksSignature = signature;
  }

  async function refresh(): Promise<void> {
    run = (await ctx.api<{ run: RunView }>('GET', path)).run;
    renderHeader(run);
    renderApproval(run);
    renderControls(run);
    renderTasks(run);
    for (;;) {
      const page = await ctx.api<{ events: EventView[]; nextAfterSeq?: number }>('GET', `${path}/events?afterSeq=${afterSeq}&limit=200`);
      for (const event of page.events) {
        timeline.append(
          h(
            'li',
            { class: `event level-${(event.level ?? 'info').replace(/[^a-z]/gi, '')}` },
            h('span', { class: 'seq' }, String(event.seq)),
            ' ',
            time(event.ts),
            ' ',
            h('strong', null, event.type),
            ' ',
            event.message,
            event.actor ? h('small', { class: 'muted' }, ` (${event.actor})`) : null,
          ),
        );
        afterSeq = Math.max(afterSeq, event.seq);
      }
      if (page.events.length < 200) break;
    }
  }

  ctx.live(async () => {
    try {
      await refresh();
      problem.replaceChildren();
    } catch (error) {
      show(problem, errorBox(error));
    }
  }, 1000);
}

/** Puts `element` into `slot` when `wanted`, takes it out otherwise; leaves it alone when already right. */
function place(slot: HTMLElement, element: HTMLElement, wanted: boolean): void {
  if (wanted && element.parentNode !== slot) slot.append(element);
  if (!wanted && element.parentNode === slot) element.remove();
}

function fact(name: string, value: Child): HTMLElement[] {
  return [h('dt', null, name), h('dd', null, value)];
}

function verdictTable(verdicts: unknown): HTMLElement | null {
  const lines = verdictLines(verdicts);
  if (lines.length === 0) return null;
  return h(
    'table',
    { class: 'verdicts' },
    h('caption', null, 'Gate verdicts at apply'),
    h(
      'tbody',
      null,
      lines.map((line) => h('tr', { class: line.ok ? 'ok' : 'blocked' }, h('th', { scope: 'row' }, line.gate), h('td', null, line.text))),
    ),
  );
}

/** Audit verify for this run: recomputes the hash chain and checks the signed heads. */
export function auditPanel(ctx: PageContext, runId: string): HTMLElement {
  const region = statusRegion();
  const button = h('button', { type: 'button' }, 'Verify the audit trail');
  button.addEventListener('click', () =>
    act(button, region, async () => {
      const result = await ctx.api<Record<string, unknown>>('GET', `/runs/${encodeURIComponent(runId)}/audit/verify`);
      region.append(h('pre', { class: result.ok ? 'audit ok' : 'audit failed' }, JSON.stringify(result, null, 2)));
      return result.ok ? `The audit trail verifies: ${String(result.eventCount)} event(s).` : 'The audit trail does NOT verify.';
    }),
  );
  return h('section', { class: 'audit-panel', 'aria-label': 'audit' }, h('h2', null, 'Audit'), h('p', null, button), region);
}
