import { h, show } from '../dom.ts';
import { act, field, statusRegion } from '../page-kit.ts';
import type { PageContext } from '../page-kit.ts';

interface ActionSummary {
  name: string;
  description: string;
  examples: { description: string; params: unknown }[];
}

/** Ask for a run: goal, environment, mode, reason, and its tasks as JSON (filled from an action's example). */
export function newRunPage(ctx: PageContext): void {
  const goal = h('input', { type: 'text', required: true, maxlength: 500 });
  const environment = h('input', { type: 'text', required: true, value: 'dev' });
  const mode = h('select', null, h('option', { value: 'APPLY' }, 'APPLY'), h('option', { value: 'PLAN' }, 'PLAN (plan only)'));
  const reason = h('textarea', { rows: 2, cols: 60, placeholder: 'why this change (production asks for one)' });
  const action = h('select', { onchange: () => fillExample() }, h('option', { value: '' }, '(choose an action)'));
  const tasks = h('textarea', { rows: 10, cols: 80, required: true, class: 'code' });
  tasks.value = '[]';
  const region = statusRegion();
  const submit = h('button', { type: 'submit' }, 'Start run');
  let actions: ActionSummary[] = [];

  function fillExample(): void {
    const chosen = actions.find((candidate) => candidate.name === action.value);
    if (!chosen) return;
    const params = chosen.examples[0]?.params ?? {};
    tasks.value = JSON.stringify([{ action: chosen.name, params }], null, 2);
  }

  const form = h(
    'form',
    {
      'aria-label': 'new run',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void act(submit, region, async () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(tasks.value);
          } catch (error) {
            throw new Error(`the tasks are not valid JSON: ${(error as Error).message}`);
          }
          const body = {
            goal: goal.value,
            environment: environment.value.trim(),
            mode: mode.value,
            tasks: parsed,
            ...(reason.value.trim() ? { reasonForAccess: reason.value.trim() } : {}),
          };
          const created = await ctx.api<{ runId: string }>('POST', '/runs', body);
          ctx.go(`#/runs/${encodeURIComponent(created.runId)}`);
          return undefined;
        });
      },
    },
    field('Goal', 'run-goal', goal),
    field('Environment', 'run-environment', environment),
    field('Mode', 'run-mode', mode),
    field('Reason for access', 'run-reason', reason),
    field('Fill the tasks from an action', 'run-action', action),
    field('Tasks (JSON: [{"action", "params"}])', 'run-tasks', tasks),
    h('p', null, submit),
    region,
  );
  show(ctx.root, h('h1', null, 'New run'), form);

  void ctx
    .api<{ actions: ActionSummary[] }>('GET', '/actions')
    .then((answer) => {
      actions = answer.actions;
      for (const candidate of actions) action.append(h('option', { value: candidate.name }, `${candidate.name} — ${candidate.description}`));
    })
    .catch((error: unknown) => act(submit, region, () => Promise.reject(error)));
}
