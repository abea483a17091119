import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ERROR_CATEGORY_METRICS } from '../functions/core/telemetry/error-metrics.ts';
import { METRICS_NAMESPACE, RunMetric } from '../functions/core/telemetry/step-metrics.ts';

/** Properties of {@link Observability}. */
export interface ObservabilityProps {
  /** The run state machine: its execution metrics go on the dashboard. */
  readonly runStateMachine: sfn.IStateMachine;

  /**
   * The `service` dimension of the EMF metrics (`POWERTOOLS_SERVICE_NAME` of the functions).
   *
   * @default 'maestro'
   */
  readonly serviceName?: string;

  /**
   * Alarm when fewer than this share of finished APPLY runs succeed in an hour (0–1).
   *
   * @default 0.9
   */
  readonly applySuccessRateThreshold?: number;

  /**
   * Alarm when the p95 of applying one task exceeds this.
   *
   * @default Duration.minutes(2)
   */
  readonly applyLatencyP95Threshold?: Duration;

  /**
   * Alarm when the p95 of planning a run exceeds this.
   *
   * @default Duration.minutes(1)
   */
  readonly planLatencyP95Threshold?: Duration;

  /**
   * Where alarms notify.
   *
   * @default - no action (the alarms still show on the dashboard and in the console)
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Maestro's CloudWatch dashboard and alarms, on the EMF metrics the handlers publish through
 * Powertools (namespace `Maestro`, dimension `service`): runs by outcome, plan and apply latency,
 * failures by error category, policy denials and approvals, and the run state machine. Alarms:
 * apply success rate, apply and plan latency p95, and any `internal` error.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly applySuccessRateAlarm: cloudwatch.Alarm;
  readonly applyLatencyAlarm: cloudwatch.Alarm;
  readonly planLatencyAlarm: cloudwatch.Alarm;
  readonly internalErrorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const threshold = props.applySuccessRateThreshold ?? 0.9;
    if (!(threshold > 0 && threshold <= 1)) {
      throw new Error(`Observability ${this.node.path}: applySuccessRateThreshold must be in (0, 1], got ${JSON.stringify(props.applySuccessRateThreshold)}`);
    }
    const service = props.serviceName ?? 'maestro';
    const metric = (metricName: string, statistic: string, period = Duration.minutes(5)) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service }, statistic, period });
    const count = (metricName: string, period?: Duration) => metric(metricName, cloudwatch.Stats.SUM, period);

    // Every alarm: one period, and no data (no runs) is not a breach.
    const alarm = (
      alarmId: string,
      alarmDescription: string,
      alarmMetric: cloudwatch.IMetric,
      alarmThreshold: number,
      comparisonOperator: cloudwatch.ComparisonOperator,
    ) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmDescription,
        metric: alarmMetric,
        threshold: alarmThreshold,
        comparisonOperator,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    const hour = Duration.hours(1);
    const applySuccessRate = new cloudwatch.MathExpression({
      label: 'Apply success rate',
      expression: 'IF(succeeded + failed + rolledBack > 0, succeeded / (succeeded + failed + rolledBack), 1)',
      usingMetrics: {
        succeeded: count(RunMetric.RunsSucceeded, hour),
        failed: count(RunMetric.RunsFailed, hour),
        rolledBack: count(RunMetric.RunsRolledBack, hour),
      },
      period: hour,
    });

    this.applySuccessRateAlarm = alarm(
      'ApplySuccessRateAlarm',
      `Fewer than ${threshold * 100}% of the runs that finished in the last hour succeeded`,
      applySuccessRate,
      threshold,
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    );
    this.applyLatencyAlarm = alarm(
      'ApplyLatencyAlarm',
      'Applying a task takes too long (p95 over 15 minutes)',
      metric(RunMetric.ApplyLatency, 'p95', Duration.minutes(15)),
      (props.applyLatencyP95Threshold ?? Duration.minutes(2)).toMilliseconds(),
      cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    this.planLatencyAlarm = alarm(
      'PlanLatencyAlarm',
      'Planning a run takes too long (p95 over 15 minutes)',
      metric(RunMetric.PlanLatency, 'p95', Duration.minutes(15)),
      (props.planLatencyP95Threshold ?? Duration.minutes(1)).toMilliseconds(),
      cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    this.internalErrorsAlarm = alarm(
      'InternalErrorsAlarm',
      'A handler failed with an unexpected (internal) error',
      count(ERROR_CATEGORY_METRICS.internal),
      1,
      cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    const alarms = [this.applySuccessRateAlarm, this.applyLatencyAlarm, this.planLatencyAlarm, this.internalErrorsAlarm];
    if (props.alarmTopic) for (const each of alarms) each.addAlarmAction(new actions.SnsAction(props.alarmTopic));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Runs by outcome',
            left: [RunMetric.RunsStarted, RunMetric.RunsSucceeded, RunMetric.RunsFailed, RunMetric.RunsRolledBack, RunMetric.RunsPlanned].map((name) =>
              count(name),
            ),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Apply success rate (hourly)',
            left: [applySuccessRate],
            leftYAxis: { min: 0, max: 1 },
            leftAnnotations: [{ value: threshold, label: 'alarm' }],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Plan and apply latency (ms)',
            left: [
              metric(RunMetric.PlanLatency, 'p50'),
              metric(RunMetric.PlanLatency, 'p95'),
              metric(RunMetric.ApplyLatency, 'p50'),
              metric(RunMetric.ApplyLatency, 'p95'),
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Failures by error category',
            left: Object.values(ERROR_CATEGORY_METRICS).map((name) => count(name)),
            stacked: true,
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Policy denials, approvals waited, tasks applied',
            left: [count(RunMetric.PolicyDenials), count(RunMetric.ApprovalsWaited), count(RunMetric.TasksApplied)],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Run workflow executions',
            left: [
              props.runStateMachine.metricStarted(),
              props.runStateMachine.metricSucceeded(),
              props.runStateMachine.metricFailed(),
              props.runStateMachine.metricTimedOut(),
            ],
            width: 12,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 })],
      ],
    });
  }
}
