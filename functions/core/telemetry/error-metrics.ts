import { ErrorCategory, describeError } from '../errors.ts';

/** The metric a failure of each category adds to (EMF, namespace `Maestro`): one per category. */
export const ERROR_CATEGORY_METRICS = {
  [ErrorCategory.validation]: 'ValidationErrors',
  [ErrorCategory.policy]: 'PolicyErrors',
  [ErrorCategory.safety]: 'SafetyErrors',
  [ErrorCategory.transient]: 'TransientErrors',
  [ErrorCategory.dependency]: 'DependencyErrors',
  [ErrorCategory.conflict]: 'ConflictErrors',
  [ErrorCategory.internal]: 'InternalErrors',
} as const satisfies Record<ErrorCategory, string>;

/** The category of any error (anything that is not a MaestroError is `internal`) and its metric. */
export function errorMetric(error: unknown): { category: ErrorCategory; metric: string } {
  const { category } = describeError(error);
  return { category, metric: ERROR_CATEGORY_METRICS[category] };
}
