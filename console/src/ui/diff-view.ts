import { diffLines, diffStat } from '../lib/diff-lines.ts';
import { h } from './dom.ts';

/** A plan's diff: one text line per element, coloured by class (before in red, after in green). */
export function diffView(diff: string): HTMLElement {
  const lines = diffLines(diff);
  if (lines.length === 0) return h('p', { class: 'muted' }, 'no diff (nothing changes)');
  const { added, removed } = diffStat(lines);
  return h(
    'figure',
    { class: 'diff' },
    h('figcaption', null, `diff: +${added} −${removed}`),
    h(
      'pre',
      { class: 'diff-lines', tabindex: 0, 'aria-label': 'plan diff' },
      lines.map((line) => h('span', { class: `line ${line.kind}` }, line.text)),
    ),
  );
}
