/** The CloudWatch namespace of Maestro's EMF metrics; every metric has the one dimension `service`. */
export const METRICS_NAMESPACE = 'Maestro';

/** A metric data point, independent of the library that publishes it. */
export interface MetricPoint {
  name: string;
  unit: 'Count' | 'Milliseconds';
  value: number;
}

/** The metric names Maestro publishes besides the per-category error metrics. */
export const RunMetric = {
  RunsStarted: 'RunsStarted',
  RunsPlanned: 'RunsPlanned',
  RunsSucceeded: 'RunsSucceeded',
  RunsFailed: 'RunsFailed',
  RunsRolledBack: 'RunsRolledBack',
  PolicyDenials: 'PolicyDenials',
  ApprovalsWaited: 'ApprovalsWaited',
  TasksApplied: 'TasksApplied',
  ApplyLatency: 'ApplyLatency',
  PlanLatency: 'PlanLatency',
  StepLatency: 'StepLatency',
} as const;
export type RunMetric = (typeof RunMetric)[keyof typeof RunMetric];

const FINAL_STATUS_METRIC: Record<string, RunMetric> = {
  PLANNED: RunMetric.RunsPlanned,
  SUCCEEDED: RunMetric.RunsSucceeded,
  ROLLED_BACK: RunMetric.RunsRolledBack,
  FAILED: RunMetric.RunsFailed,
  EXPIRED: RunMetric.RunsFailed,
  REJECTED: RunMetric.RunsFailed,
  CANCELLED: RunMetric.RunsFailed,
  DENIED: RunMetric.RunsFailed,
};

const count = (name: string): MetricPoint => ({ name, unit: 'Count', value: 1 });

/**
 * What a successful workflow step adds to the metrics, from its name and output. A replayed step
 * counts again (at-least-once, like the workflow itself).
 */
export function metricsForStep(step: string, output: unknown, durationMs: number): MetricPoint[] {
  const points: MetricPoint[] = [{ name: RunMetric.StepLatency, unit: 'Milliseconds', value: durationMs }];
  const status = typeof output === 'object' && output !== null ? (output as Record<string, unknown>).status : undefined;
  switch (step) {
    case 'Admit':
      points.push(count(RunMetric.RunsStarted));
      break;
    case 'AwaitApproval':
      points.push(count(RunMetric.ApprovalsWaited));
      break;
    case 'Plan':
      points.push({ name: RunMetric.PlanLatency, unit: 'Milliseconds', value: durationMs });
      break;
    case 'ApplyTask':
      points.push(count(RunMetric.TasksApplied), { name: RunMetric.ApplyLatency, unit: 'Milliseconds', value: durationMs });
      break;
    case 'Finalize': {
      const metric = typeof status === 'string' && Object.hasOwn(FINAL_STATUS_METRIC, status) ? FINAL_STATUS_METRIC[status] : undefined;
      if (metric) points.push(count(metric));
      // A placeholder until the policy gate records its own decisions: a run that ended DENIED.
      if (status === 'DENIED') points.push(count(RunMetric.PolicyDenials));
      break;
    }
  }
  return points;
}
