import { filterRuns } from '../../lib/run-facts.ts';
import type { RunFilters, RunSummaryView } from '../../lib/run-facts.ts';
import { h, show } from '../dom.ts';
import { badge, errorBox, field, time } from '../page-kit.ts';
import type { PageContext } from '../page-kit.ts';

const STATUSES = [
  '',
  'PLANNING',
  'PLANNED',
  'AWAITING_APPROVAL',
  'APPLYING',
  'VERIFYING',
  'SUCCEEDED',
  'FAILED',
  'ROLLING_BACK',
  'ROLLED_BACK',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
  'DENIED',
];

/** The runs, newest first, with filters; refreshed every 2 s. */
export function runsPage(ctx: PageContext): void {
  const filters: RunFilters = {};
  let runs: RunSummaryView[] = [];
  const status = h(
    'select',
    {
      onchange: () => {
        filters.status = status.value || undefined;
        render();
      },
    },
    STATUSES.map((s) => h('option', { value: s }, s || 'any')),
  );
  const environment = h('input', {
    type: 'text',
    placeholder: 'e.g. prod',
    oninput: () => {
      filters.environment = environment.value.trim() || undefined;
      render();
    },
  });
  const requester = h('input', {
    type: 'text',
    placeholder: 'e.g. dev-operator',
    oninput: () => {
      filters.requester = requester.value;
      render();
    },
  });
  const text = h('input', {
    type: 'search',
    placeholder: 'goal or run id',
    oninput: () => {
      filters.text = text.value;
      render();
    },
  });
  const table = h('div', { class: 'table-wrap' });
  const problem = h('div', { 'aria-live': 'polite' });
  show(
    ctx.root,
    h('h1', null, 'Runs'),
    h('p', null, h('a', { href: '#/new', class: 'button' }, 'New run')),
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'filter runs', onsubmit: (event: Event) => event.preventDefault() },
      field('Status', 'filter-status', status),
      field('Environment', 'filter-environment', environment),
      field('Requester', 'filter-requester', requester),
      field('Search', 'filter-text', text),
    ),
    problem,
    table,
  );

  function render(): void {
    const shown = filterRuns(runs, filters);
    show(
      table,
      h(
        'table',
        { class: 'runs' },
        h('caption', null, `${shown.length} of ${runs.length} run(s)`),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Run', 'Status', 'Environment', 'Mode', 'Requester', 'Created'].map((name) => h('th', { scope: 'col' }, name)),
          ),
        ),
        h(
          'tbody',
          null,
          shown.map((run) =>
            h(
              'tr',
              { 'data-run-id': run.id },
              h('td', null, h('a', { href: `#/runs/${encodeURIComponent(run.id)}` }, run.goal), h('br'), h('small', { class: 'muted' }, run.id)),
              h('td', null, badge(run.status)),
              h('td', null, run.environment),
              h('td', null, run.mode),
              h('td', null, run.requestedBy),
              h('td', null, time(run.createdAt)),
            ),
          ),
        ),
      ),
    );
  }

  ctx.live(async () => {
    try {
      runs = (await ctx.api<{ runs: RunSummaryView[] }>('GET', '/runs?limit=100')).runs;
      problem.replaceChildren();
      render();
    } catch (error) {
      show(problem, errorBox(error));
    }
  }, 2000);
}
