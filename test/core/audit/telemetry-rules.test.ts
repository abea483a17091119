import { describe, expect, it } from 'vitest';
import * as errors from '../../../functions/core/errors.ts';
import { ErrorCategory, MaestroError } from '../../../functions/core/errors.ts';
import { ERROR_CATEGORY_METRICS, errorMetric } from '../../../functions/core/telemetry/error-metrics.ts';
import { REDACTED, redact, redactWithFlag } from '../../../functions/core/telemetry/redaction.ts';
import { metricsForStep } from '../../../functions/core/telemetry/step-metrics.ts';

describe('error categories', () => {
  it('gives every error class one of the documented categories, each with its own metric', () => {
    const classes = Object.values(errors).filter(
      (value): value is typeof MaestroError => typeof value === 'function' && value.prototype instanceof MaestroError,
    );
    expect(classes.length).toBeGreaterThan(15);
    for (const ErrorClass of classes) {
      const error = new ErrorClass('x');
      expect(Object.values(ErrorCategory), ErrorClass.name).toContain(error.category);
      expect(errorMetric(error).metric).toBe(ERROR_CATEGORY_METRICS[error.category]);
    }
    expect(new Set(Object.values(ERROR_CATEGORY_METRICS)).size).toBe(7);
    expect(errorMetric(new TypeError('boom'))).toEqual({ category: 'internal', metric: 'InternalErrors' });
    expect(errorMetric(new errors.TransientError('throttled'))).toEqual({ category: 'transient', metric: 'TransientErrors' });
  });
});

describe('redaction rules', () => {
  const value = {
    reasonForAccess: 'incident 42',
    nested: { apiKey: 'k', Authorization: 'Bearer x', list: [{ password: 'p', ok: 1 }] },
    token: undefined,
    keep: 'yes',
  };

  it('redacts secrets and reasons from logs', () => {
    expect(redact(value, 'logs')).toEqual({
      reasonForAccess: REDACTED,
      nested: { apiKey: REDACTED, Authorization: REDACTED, list: [{ password: REDACTED, ok: 1 }] },
      token: undefined,
      keep: 'yes',
    });
  });

  it('keeps reasons in the audit export (they are the evidence) but not secrets, and says so', () => {
    const result = redactWithFlag(value, 'export');
    expect(result.redacted).toBe(true);
    expect(result.value.reasonForAccess).toBe('incident 42');
    expect(result.value.nested.apiKey).toBe(REDACTED);
    expect(redactWithFlag({ status: 'SUCCEEDED' }, 'export')).toEqual({ value: { status: 'SUCCEEDED' }, redacted: false });
  });
});

describe('metricsForStep', () => {
  const names = (step: string, output: unknown) => metricsForStep(step, output, 12).map((point) => point.name);
  it('maps steps and final statuses to the run metrics', () => {
    expect(names('Admit', {})).toEqual(['StepLatency', 'RunsStarted']);
    expect(names('Plan', {})).toEqual(['StepLatency', 'PlanLatency']);
    expect(names('ApplyTask', { status: 'APPLIED' })).toEqual(['StepLatency', 'TasksApplied', 'ApplyLatency']);
    expect(names('AwaitApproval', {})).toEqual(['StepLatency', 'ApprovalsWaited']);
    expect(names('Finalize', { status: 'SUCCEEDED' })).toEqual(['StepLatency', 'RunsSucceeded']);
    expect(names('Finalize', { status: 'ROLLED_BACK' })).toEqual(['StepLatency', 'RunsRolledBack']);
    expect(names('Finalize', { status: 'DENIED' })).toEqual(['StepLatency', 'RunsFailed', 'PolicyDenials']);
    expect(metricsForStep('ApplyTask', {}, 12).find((point) => point.name === 'ApplyLatency')).toEqual({
      name: 'ApplyLatency',
      unit: 'Milliseconds',
      value: 12,
    });
  });
});
