// DescribeAlarms: by names or by name prefix, filtered by state and action
// prefix, sorted by name and paged. Composite alarms are not kept, so that
// list is always empty.

import { z } from 'zod';
import { paginate } from '../emulator-support/offset-pagination.ts';
import { parseInput } from '../emulator-support/request-validation.ts';
import { CloudWatchError, cloudWatchValidationError } from './cloudwatch-errors.ts';
import { ALARM_STATES } from './alarm-document.ts';
import type { AlarmDocument } from './alarm-document.ts';
import { metricAlarmView } from './alarm-view.ts';
import type { CloudWatchOperation } from './cloudwatch-context.ts';

const DEFAULT_MAX_RECORDS = 50;

const describeAlarmsRequest = z.object({
  AlarmNames: z.array(z.string().min(1).max(255)).max(100).optional(),
  AlarmNamePrefix: z.string().min(1).max(255).optional(),
  AlarmTypes: z.array(z.enum(['CompositeAlarm', 'MetricAlarm'])).optional(),
  ChildrenOfAlarmName: z.string().optional(),
  ParentsOfAlarmName: z.string().optional(),
  StateValue: z.enum(ALARM_STATES).optional(),
  ActionPrefix: z.string().min(1).max(1024).optional(),
  MaxRecords: z.number().int().min(1).max(100).optional(),
  NextToken: z.string().optional(),
});

type DescribeRequest = z.output<typeof describeAlarmsRequest>;

const describeAlarms: CloudWatchOperation = async (context, input) => {
  const request = parseInput(describeAlarmsRequest, input, cloudWatchValidationError);
  if (request.AlarmNames !== undefined && request.AlarmNamePrefix !== undefined) {
    throw new CloudWatchError('InvalidParameterCombinationException', 'AlarmNames and AlarmNamePrefix cannot be specified together.');
  }
  const wantsMetricAlarms = request.AlarmTypes === undefined || request.AlarmTypes.includes('MetricAlarm');
  const matching = wantsMetricAlarms ? context.store.list().filter((alarm) => matches(alarm, request)) : [];
  const page = paginate(
    matching,
    request.MaxRecords ?? DEFAULT_MAX_RECORDS,
    request.NextToken,
    () => new CloudWatchError('InvalidNextToken', 'The service returned an error indicating that the next token is not valid.'),
  );
  return {
    MetricAlarms: page.items.map((alarm) => metricAlarmView(context.scope, alarm)),
    CompositeAlarms: [],
    ...(page.nextToken !== undefined ? { NextToken: page.nextToken } : {}),
  };
};

function matches(alarm: AlarmDocument, request: DescribeRequest): boolean {
  if (request.AlarmNames !== undefined && !request.AlarmNames.includes(alarm.alarmName)) return false;
  if (request.AlarmNamePrefix !== undefined && !alarm.alarmName.startsWith(request.AlarmNamePrefix)) return false;
  if (request.StateValue !== undefined && alarm.state.value !== request.StateValue) return false;
  if (request.ActionPrefix !== undefined) {
    const { OKActions = [], AlarmActions = [], InsufficientDataActions = [] } = alarm.configuration;
    if (![...OKActions, ...AlarmActions, ...InsufficientDataActions].some((action) => action.startsWith(request.ActionPrefix!))) return false;
  }
  return true;
}

export const ALARM_QUERIES: ReadonlyMap<string, CloudWatchOperation> = new Map([['DescribeAlarms', describeAlarms]]);
