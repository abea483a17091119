import { h, show } from '../dom.ts';
import { act, errorBox, field, statusRegion, time } from '../page-kit.ts';
import type { PageContext } from '../page-kit.ts';

interface Control {
  killSwitch: { engaged: boolean; reason?: string; changedBy?: string; changedAt?: string };
  freezeOverrides: { environment: string; justification: string; until: string; grantedBy: string }[];
}

/**
 * The kill switch and change-freeze overrides (admins; the API refuses anyone else). Each change
 * needs a written reason and an explicit confirmation box ticked before the button does anything.
 */
export function controlPage(ctx: PageContext): void {
  const state = h('div', { 'aria-live': 'polite' });
  const problem = h('div', { 'aria-live': 'polite' });

  const killReason = h('textarea', { rows: 2, cols: 60, minlength: 10, maxlength: 500, required: true });
  const killConfirm = h('input', { type: 'checkbox', required: true });
  const killRegion = statusRegion();
  const killButton = h('button', { type: 'submit', class: 'danger' }, 'Engage or release');
  let engaged = false;
  const killForm = h(
    'form',
    {
      'aria-label': 'kill switch',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void act(killButton, killRegion, async () => {
          if (!killConfirm.checked) throw new Error('tick the confirmation first');
          const answer = await ctx.api<Control>('POST', '/control/kill-switch', { engaged: !engaged, reason: killReason.value });
          killConfirm.checked = false;
          killReason.value = '';
          await load();
          return `The kill switch is now ${answer.killSwitch.engaged ? 'ENGAGED' : 'released'}.`;
        });
      },
    },
    field('Reason (at least 10 characters)', 'kill-reason', killReason),
    h('p', null, killConfirm, ' ', h('label', { for: 'kill-confirm' }, 'I confirm this change to every run')),
    h('p', null, killButton),
    killRegion,
  );
  killConfirm.id = 'kill-confirm';

  const freezeEnvironment = h('input', { type: 'text', required: true, value: 'prod' });
  const freezeUntil = h('input', { type: 'text', required: true, placeholder: '2026-12-31T18:00:00Z' });
  const freezeJustification = h('textarea', { rows: 2, cols: 60, minlength: 20, maxlength: 1000, required: true });
  const freezeConfirm = h('input', { type: 'checkbox', required: true, id: 'freeze-confirm' });
  const freezeRegion = statusRegion();
  const freezeButton = h('button', { type: 'submit' }, 'Override the freeze');
  const freezeForm = h(
    'form',
    {
      'aria-label': 'freeze override',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void act(freezeButton, freezeRegion, async () => {
          if (!freezeConfirm.checked) throw new Error('tick the confirmation first');
          await ctx.api('POST', '/control/freeze-overrides', {
            environment: freezeEnvironment.value.trim(),
            justification: freezeJustification.value,
            until: freezeUntil.value.trim(),
          });
          freezeConfirm.checked = false;
          await load();
          return 'Override granted.';
        });
      },
    },
    field('Environment', 'freeze-environment', freezeEnvironment),
    field('Until (ISO 8601 with a zone)', 'freeze-until', freezeUntil),
    field('Justification (at least 20 characters)', 'freeze-justification', freezeJustification),
    h('p', null, freezeConfirm, ' ', h('label', { for: 'freeze-confirm' }, 'I confirm changes may apply during this freeze')),
    h('p', null, freezeButton),
    freezeRegion,
  );

  show(
    ctx.root,
    h('h1', null, 'Kill switch and freezes'),
    problem,
    state,
    h('h2', null, 'Kill switch'),
    killForm,
    h('h2', null, 'Freeze override'),
    freezeForm,
  );

  async function load(): Promise<void> {
    const control = await ctx.api<Control>('GET', '/control');
    engaged = control.killSwitch.engaged;
    killButton.textContent = engaged ? 'Release the kill switch' : 'Engage the kill switch';
    show(
      state,
      h(
        'p',
        { class: engaged ? 'error' : 'done' },
        `Kill switch: ${engaged ? 'ENGAGED' : 'released'}`,
        control.killSwitch.reason ? ` — ${control.killSwitch.reason}` : '',
        control.killSwitch.changedBy ? ` (by ${control.killSwitch.changedBy} at ` : '',
        control.killSwitch.changedAt ? [time(control.killSwitch.changedAt), ')'] : '',
      ),
      control.freezeOverrides.length
        ? h(
            'ul',
            null,
            control.freezeOverrides.map((o) => h('li', null, `${o.environment}: overridden until `, time(o.until), ` by ${o.grantedBy}: ${o.justification}`)),
          )
        : h('p', { class: 'muted' }, 'No freeze overrides.'),
    );
  }
  ctx.live(async () => {
    try {
      await load();
      problem.replaceChildren();
    } catch (error) {
      show(problem, errorBox(error));
    }
  }, 5000);
}
