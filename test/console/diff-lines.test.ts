import { describe, expect, it } from 'vitest';
import { diffLines, diffStat } from '../../console/src/lib/diff-lines.ts';

describe('diffLines (the console colours a plan diff by line, as text)', () => {
  const diff = [
    '--- a/s3://maestro-demo/greeting.txt',
    '+++ b/s3://maestro-demo/greeting.txt',
    '@@ -1,2 +1,2 @@',
    ' unchanged',
    '-<script>alert(1)</script>',
    '+<img src=x onerror=alert(2)>',
    '\\ No newline at end of file',
    '',
  ].join('\n');

  it('classifies file names, hunks, added, removed, context and notes', () => {
    expect(diffLines(diff).map((line) => line.kind)).toEqual(['file', 'file', 'hunk', 'context', 'remove', 'add', 'note']);
  });

  it('keeps every line exactly as written: markup stays characters', () => {
    const lines = diffLines(diff);
    expect(lines[4].text).toBe('-<script>alert(1)</script>');
    expect(lines[5].text).toBe('+<img src=x onerror=alert(2)>');
  });

  it('counts added and removed lines, not the file headers', () => {
    expect(diffStat(diffLines(diff))).toEqual({ added: 1, removed: 1 });
  });

  it('has no lines for an empty diff, and reads a creation from /dev/null', () => {
    expect(diffLines('')).toEqual([]);
    expect(diffLines('--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+new\n').map((line) => line.kind)).toEqual(['file', 'file', 'hunk', 'add']);
  });
});
