// PutMetricAlarm and DeleteAlarms. An update replaces the whole configuration
// but keeps the alarm's state and tags, as CloudWatch does.

import { z } from 'zod';
import { parseInput } from '../emulator-support/request-validation.ts';
import { CloudWatchError, cloudWatchValidationError } from './cloudwatch-errors.ts';
import { alarmConfigurationSchema, newAlarmDocument } from './alarm-document.ts';
import type { AlarmConfiguration } from './alarm-document.ts';
import type { CloudWatchOperation } from './cloudwatch-context.ts';

const alarmNameMember = z.string().min(1).max(255);

const putMetricAlarmRequest = alarmConfigurationSchema.extend({
  AlarmName: alarmNameMember,
  Tags: z
    .array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) }))
    .max(50)
    .optional(),
});

const deleteAlarmsRequest = z.object({ AlarmNames: z.array(alarmNameMember).min(1).max(100) });

const putMetricAlarm: CloudWatchOperation = async (context, input) => {
  const { AlarmName, Tags, ...configuration } = parseInput(putMetricAlarmRequest, input, cloudWatchValidationError);
  checkConfiguration(configuration);
  await context.store.update(AlarmName, (current) => {
    const now = new Date().toISOString();
    if (!current) return { write: newAlarmDocument(AlarmName, configuration, Tags ?? [], now), result: undefined };
    return { write: { ...current, configuration, configurationUpdatedAt: now }, result: undefined };
  });
  return {};
};

function checkConfiguration(configuration: AlarmConfiguration): void {
  const { MetricName, Namespace, Period, Statistic, ExtendedStatistic, Metrics, Threshold, ThresholdMetricId } = configuration;
  if (Metrics !== undefined && MetricName !== undefined) {
    throw new CloudWatchError('InvalidParameterCombinationException', 'An alarm watches either MetricName or Metrics, not both.');
  }
  if (Metrics === undefined) {
    if (MetricName === undefined) throw new CloudWatchError('MissingRequiredParameterException', 'Either MetricName or Metrics must be specified.');
    if (Namespace === undefined) throw new CloudWatchError('MissingRequiredParameterException', 'Namespace must be specified with MetricName.');
    if (Period === undefined) throw new CloudWatchError('MissingRequiredParameterException', 'Period must be specified with MetricName.');
    if (Statistic !== undefined && ExtendedStatistic !== undefined) {
      throw new CloudWatchError('InvalidParameterCombinationException', 'Statistic and ExtendedStatistic cannot both be specified.');
    }
    if (Statistic === undefined && ExtendedStatistic === undefined) {
      throw new CloudWatchError('MissingRequiredParameterException', 'Either Statistic or ExtendedStatistic must be specified.');
    }
  }
  if (Period !== undefined && ![10, 20, 30].includes(Period) && Period % 60 !== 0) {
    throw new CloudWatchError('InvalidParameterValueException', `The parameter Period must be 10, 20, 30 or a multiple of 60; got ${Period}.`);
  }
  if (Threshold === undefined && ThresholdMetricId === undefined) {
    throw new CloudWatchError('MissingRequiredParameterException', 'Threshold must be specified (or ThresholdMetricId for an anomaly detection alarm).');
  }
}

// One missing name refuses the whole call and deletes nothing, as in CloudWatch.
const deleteAlarms: CloudWatchOperation = async (context, input) => {
  const { AlarmNames } = parseInput(deleteAlarmsRequest, input, cloudWatchValidationError);
  const missing = AlarmNames.filter((name) => context.store.get(name) === undefined);
  if (missing.length > 0) throw new CloudWatchError('ResourceNotFound', `${missing.length === 1 ? 'Alarm' : 'Alarms'} ${missing.join(', ')} not found`);
  for (const name of new Set(AlarmNames)) {
    await context.store.update(name, (current) => (current ? { remove: true, result: undefined } : { result: undefined }));
  }
  return {};
};

export const ALARM_WRITES: ReadonlyMap<string, CloudWatchOperation> = new Map([
  ['PutMetricAlarm', putMetricAlarm],
  ['DeleteAlarms', deleteAlarms],
]);
