import { describe, expect, it } from 'vitest';
import * as errors from '../../functions/core/errors.ts';
import { httpErrors, httpRuleOf } from '../../functions/core/http-errors.ts';
import { approvalPage } from '../../functions/handlers/api/approval-pages.ts';
import { errorResponse } from '../../functions/handlers/api/http.ts';

describe('the HTTP error table', () => {
  it('has a row for every error class, with the status the class declares', () => {
    const classes = (Object.values(errors) as unknown[]).filter(
      (value): value is new (message: string) => errors.MaestroError => typeof value === 'function' && value.prototype instanceof errors.MaestroError,
    );
    expect(httpErrors().size).toBe(classes.length);
    for (const ErrorType of classes) {
      const error = new ErrorType('x');
      expect(httpErrors().get(error.code)?.status, error.code).toBe(error.status);
    }
  });

  it('exposes what is below 500 and the retryable server errors; hides the rest', () => {
    for (const [code, rule] of httpErrors()) {
      if (rule.status < 500) expect(rule.exposed, code).toBe(true);
    }
    expect(
      [...httpErrors()]
        .filter(([, rule]) => rule.status >= 500 && rule.exposed)
        .map(([code]) => code)
        .sort(),
    ).toStrictEqual(['CircuitOpen', 'TransientError', 'WorkflowUnavailable']);
    expect(httpRuleOf(new Error('boom'))).toStrictEqual({ code: 'InternalError', status: 500, exposed: false });
  });

  it('is what routes answer with: the code and field of an exposed error, a bare 500 otherwise', () => {
    const refused = errorResponse(new errors.PolicyDenied('no', { field: 'tasks[0]' }), 'c-1');
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'PolicyDenied', message: 'no', field: 'tasks[0]' });
    const hidden = errorResponse(new errors.InternalError('internal detail'), 'c-2');
    expect(hidden.statusCode).toBe(500);
    expect(hidden.body).not.toContain('internal detail');
  });

  it('is what the approval pages answer with', () => {
    expect(approvalPage({ kind: 'refused', error: new errors.ApprovalLinkRefused('forged') }).statusCode).toBe(403);
    expect(approvalPage({ kind: 'refused', error: new errors.ApprovalExpired('late') }).statusCode).toBe(410);
    expect(approvalPage({ kind: 'refused', error: new errors.ValidationFailed('not a link', { field: 'token' }) }).statusCode).toBe(400);
  });
});
