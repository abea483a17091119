import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../functions/actions/catalog.ts';
import { ValidationFailed } from '../../functions/core/errors.ts';
import { CreateRunRequest } from '../../functions/core/runs/create-run.ts';
import { finalStatus } from '../../functions/core/runs/finalize-run.ts';
import { normaliseWorkflowError } from '../../functions/core/runs/roll-back-run.ts';
import { parseOrThrow } from '../../functions/core/validation.ts';

function refusal(run: () => unknown): ValidationFailed {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationFailed) return error;
    throw error;
  }
  throw new Error('expected a ValidationFailed');
}

describe('request validation', () => {
  it('names the bad field in tasks[i].params.x form', () => {
    const action = defaultCatalog().get('s3.put-object');
    const error = refusal(() => parseOrThrow(action.schema, { bucket: 'Not_A_Bucket', key: 'k', body: '' }, 'tasks[2].params'));
    expect(error.field).toBe('tasks[2].params.bucket');
    expect(error.message).toContain('S3 bucket name');
  });

  it('refuses unknown keys and names them', () => {
    const error = refusal(() => parseOrThrow(CreateRunRequest, { goal: 'g', mode: 'PLAN', tasks: [{ action: 'noop' }], colour: 'red' }));
    expect(error.field).toBe('colour');
  });

  it('refuses a run without tasks, and one with too many', () => {
    expect(refusal(() => parseOrThrow(CreateRunRequest, { goal: 'g', mode: 'APPLY', tasks: [] })).field).toBe('tasks');
    const many = Array.from({ length: 26 }, () => ({ action: 'noop' }));
    expect(refusal(() => parseOrThrow(CreateRunRequest, { goal: 'g', mode: 'APPLY', tasks: many })).field).toBe('tasks');
  });

  it('refuses an unknown action by name, naming the field', () => {
    expect(() => defaultCatalog().get('rm-rf', undefined, 'tasks[0].action')).toThrow(/unknown action "rm-rf"/);
  });
});

describe('how a run ends', () => {
  it('maps workflow failures to the statuses of their causes', () => {
    expect(finalStatus({ outcome: 'SUCCEEDED' }, undefined)).toBe('SUCCEEDED');
    expect(finalStatus({ outcome: 'ROLLED_BACK' }, { name: 'VerificationFailed', message: '' })).toBe('ROLLED_BACK');
    expect(finalStatus({ outcome: 'FAILED' }, { name: 'States.Timeout', message: '' })).toBe('EXPIRED');
    expect(finalStatus({ outcome: 'FAILED' }, { name: 'RunCancelled', message: '' })).toBe('CANCELLED');
    expect(finalStatus({ outcome: 'FAILED' }, { name: 'ActionFailed', message: '' })).toBe('FAILED');
  });

  it("reads Step Functions' {Error, Cause} with a Lambda error as JSON cause", () => {
    const cause = JSON.stringify({ errorType: 'StalePlan', errorMessage: 's3://b/k changed since it was planned' });
    expect(normaliseWorkflowError({ Error: 'StalePlan', Cause: cause })).toEqual({ name: 'StalePlan', message: 's3://b/k changed since it was planned' });
    expect(normaliseWorkflowError({ Error: 'States.Timeout', Cause: 'timed out' })).toEqual({ name: 'States.Timeout', message: 'timed out' });
  });
});
