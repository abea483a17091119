// What the CloudWatch stand-in keeps per metric alarm: its configuration as
// PutMetricAlarm gave it, its tags, and its state. Dates are ISO strings on disk.

import { z } from 'zod';

const FORMAT_VERSION = 1;

export const ALARM_STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export const COMPARISON_OPERATORS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
  'LessThanLowerOrGreaterThanUpperThreshold',
  'LessThanLowerThreshold',
  'GreaterThanUpperThreshold',
] as const;

export const dimensionSchema = z.object({ Name: z.string().min(1).max(255), Value: z.string().min(1).max(1024) });

/** PutMetricAlarm's members that describe the alarm (everything but the name and tags). */
export const alarmConfigurationSchema = z.object({
  AlarmDescription: z.string().max(1024).optional(),
  ActionsEnabled: z.boolean().optional(),
  OKActions: z.array(z.string().min(1).max(1024)).max(5).optional(),
  AlarmActions: z.array(z.string().min(1).max(1024)).max(5).optional(),
  InsufficientDataActions: z.array(z.string().min(1).max(1024)).max(5).optional(),
  MetricName: z.string().min(1).max(255).optional(),
  Namespace: z.string().min(1).max(255).optional(),
  Statistic: z.enum(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']).optional(),
  ExtendedStatistic: z.string().optional(),
  Dimensions: z.array(dimensionSchema).max(30).optional(),
  Period: z.number().int().min(1).optional(),
  Unit: z.string().optional(),
  EvaluationPeriods: z.number().int().min(1),
  DatapointsToAlarm: z.number().int().min(1).optional(),
  Threshold: z.number().optional(),
  ComparisonOperator: z.enum(COMPARISON_OPERATORS),
  TreatMissingData: z.enum(['breaching', 'notBreaching', 'ignore', 'missing']).optional(),
  EvaluateLowSampleCountPercentile: z.enum(['evaluate', 'ignore']).optional(),
  Metrics: z.array(z.record(z.string(), z.unknown())).optional(),
  ThresholdMetricId: z.string().min(1).max(255).optional(),
});

export type AlarmConfiguration = z.infer<typeof alarmConfigurationSchema>;

export const alarmDocumentSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  alarmName: z.string().min(1),
  configuration: alarmConfigurationSchema,
  configurationUpdatedAt: z.iso.datetime(),
  tags: z.array(z.object({ Key: z.string(), Value: z.string() })),
  state: z.object({
    value: z.enum(ALARM_STATES),
    reason: z.string(),
    reasonData: z.string().optional(),
    updatedAt: z.iso.datetime(),
    transitionedAt: z.iso.datetime(),
  }),
});

export type AlarmDocument = z.infer<typeof alarmDocumentSchema>;

export function newAlarmDocument(alarmName: string, configuration: AlarmConfiguration, tags: AlarmDocument['tags'], now: string): AlarmDocument {
  return {
    formatVersion: FORMAT_VERSION,
    alarmName,
    configuration,
    configurationUpdatedAt: now,
    tags,
    // A new alarm starts here until it is evaluated, as in CloudWatch.
    state: { value: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', updatedAt: now, transitionedAt: now },
  };
}
