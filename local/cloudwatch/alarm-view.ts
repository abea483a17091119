// A MetricAlarm as DescribeAlarms returns it. Dates stay Dates here: each
// protocol writes them its own way (epoch seconds in JSON, ISO 8601 in XML).

import type { AlarmDocument } from './alarm-document.ts';
import { alarmArn } from './cloudwatch-context.ts';
import type { CloudWatchScope } from './cloudwatch-context.ts';

export function metricAlarmView(scope: CloudWatchScope, alarm: AlarmDocument): Record<string, unknown> {
  const { configuration, state } = alarm;
  return {
    AlarmName: alarm.alarmName,
    AlarmArn: alarmArn(scope, alarm.alarmName),
    ...(configuration.AlarmDescription !== undefined ? { AlarmDescription: configuration.AlarmDescription } : {}),
    AlarmConfigurationUpdatedTimestamp: new Date(alarm.configurationUpdatedAt),
    ActionsEnabled: configuration.ActionsEnabled ?? true,
    OKActions: configuration.OKActions ?? [],
    AlarmActions: configuration.AlarmActions ?? [],
    InsufficientDataActions: configuration.InsufficientDataActions ?? [],
    StateValue: state.value,
    StateReason: state.reason,
    ...(state.reasonData !== undefined ? { StateReasonData: state.reasonData } : {}),
    StateUpdatedTimestamp: new Date(state.updatedAt),
    ...pick(configuration, ['MetricName', 'Namespace', 'Statistic', 'ExtendedStatistic']),
    Dimensions: configuration.Dimensions ?? [],
    ...pick(configuration, [
      'Period',
      'Unit',
      'EvaluationPeriods',
      'DatapointsToAlarm',
      'Threshold',
      'ComparisonOperator',
      'TreatMissingData',
      'EvaluateLowSampleCountPercentile',
      'Metrics',
      'ThresholdMetricId',
    ]),
    StateTransitionedTimestamp: new Date(state.transitionedAt),
  };
}

function pick<Source extends object, Key extends keyof Source>(source: Source, keys: readonly Key[]): Partial<Pick<Source, Key>> {
  const picked: Partial<Pick<Source, Key>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}
