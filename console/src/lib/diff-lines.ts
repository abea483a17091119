/** One line of a unified diff, classified for colouring (rendered as text, never as markup). */
export interface DiffLine {
  kind: 'file' | 'hunk' | 'add' | 'remove' | 'context' | 'note';
  text: string;
}

/** Splits a plan's unified diff into classified lines: `+` added, `-` removed, `@@` hunk headers, `---`/`+++` file names. */
export function diffLines(diff: string): DiffLine[] {
  if (diff === '') return [];
  const lines = diff.replace(/\n$/, '').split('\n');
  return lines.map((text) => ({ kind: kindOf(text), text }));
}

function kindOf(line: string): DiffLine['kind'] {
  if (line.startsWith('+++ ') || line.startsWith('--- ') || line === '+++' || line === '---') return 'file';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'remove';
  if (line.startsWith('\\')) return 'note';
  return 'context';
}

/** How many lines the diff adds and removes (file headers excluded). */
export function diffStat(lines: readonly DiffLine[]): { added: number; removed: number } {
  return {
    added: lines.filter((line) => line.kind === 'add').length,
    removed: lines.filter((line) => line.kind === 'remove').length,
  };
}
