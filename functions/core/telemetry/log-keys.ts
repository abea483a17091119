/**
 * The keys every log line and trace carries, named once: Powertools log keys (snake_case, as the
 * issue and CloudWatch Logs Insights queries use them) and the X-Ray annotations with the same names.
 */
export const TelemetryKey = {
  step: 'step',
  runId: 'run_id',
  correlationId: 'correlation_id',
  taskId: 'task_id',
  taskIndex: 'task_index',
  action: 'action',
  resource: 'resource',
  principal: 'principal',
  errorCategory: 'error_category',
} as const;
export type TelemetryKey = (typeof TelemetryKey)[keyof typeof TelemetryKey];

/** A task's id in logs and traces: the run id and the task's index. */
export const taskIdOf = (runId: string, index: number) => `${runId}#${index}`;
