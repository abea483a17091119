import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from '../../functions/core/errors.ts';
import { ERRORS_DOC, errorRows, renderErrorsDoc, workflowHandling } from './errors-doc.ts';

describe('docs/errors.md', () => {
  it('is what `npm run docs:errors` writes from the code today (regenerate it when an error or a Retry/Catch changes)', () => {
    expect(readFileSync(ERRORS_DOC, 'utf8')).toBe(renderErrorsDoc());
  });

  it('has one row per exported error class, so a new class changes the page', () => {
    const classes = Object.values(errors).filter((value) => typeof value === 'function' && value.prototype instanceof errors.MaestroError);
    const rows = errorRows();
    expect(rows).toHaveLength(classes.length);
    for (const row of rows) expect(renderErrorsDoc()).toContain(`| \`${row.code}\` | ${row.status} | ${row.category} |`);
  });

  it('reads the workflows: TransientError is retried by the run workflow, ArtifactRejected caught by the restore', () => {
    const { retried, caught } = workflowHandling();
    expect(retried.get('TransientError')).toContain('run: ApplyTask');
    expect(caught.get('ArtifactRejected')).toContain('dr-restore: Stage → RecordRejected');
  });

  it('names only error codes the code has in the workflows, or the AWS ones', () => {
    const codes = new Set(errorRows().map((row) => row.code));
    const { retried, caught } = workflowHandling();
    const unknown = [...retried.keys(), ...caught.keys()].filter((name) => !codes.has(name) && !/^(States|Lambda)\./.test(name));
    expect(unknown).toEqual([]);
  });
});
