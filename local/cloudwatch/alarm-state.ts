// SetAlarmState: what operators use to test an alarm in AWS, and what tests use
// here to fire one. The state holds until the next change (no metric data is
// evaluated locally, so nothing moves it back on its own).

import { z } from 'zod';
import { parseInput } from '../emulator-support/request-validation.ts';
import { CloudWatchError, cloudWatchValidationError } from './cloudwatch-errors.ts';
import { ALARM_STATES } from './alarm-document.ts';
import type { CloudWatchOperation } from './cloudwatch-context.ts';

const setAlarmStateRequest = z.object({
  AlarmName: z.string().min(1).max(255),
  StateValue: z.enum(ALARM_STATES),
  StateReason: z.string().max(1023),
  StateReasonData: z.string().max(4000).optional(),
});

const setAlarmState: CloudWatchOperation = async (context, input) => {
  const request = parseInput(setAlarmStateRequest, input, cloudWatchValidationError);
  if (request.StateReasonData !== undefined && !isJson(request.StateReasonData)) {
    throw new CloudWatchError('InvalidFormatFault', 'StateReasonData is not valid JSON.');
  }
  await context.store.update(request.AlarmName, (current) => {
    if (!current) throw new CloudWatchError('ResourceNotFound', `Alarm ${request.AlarmName} not found`);
    const now = new Date().toISOString();
    const state = {
      value: request.StateValue,
      reason: request.StateReason,
      ...(request.StateReasonData !== undefined ? { reasonData: request.StateReasonData } : {}),
      updatedAt: now,
      transitionedAt: request.StateValue === current.state.value ? current.state.transitionedAt : now,
    };
    return { write: { ...current, state }, result: undefined };
  });
  return {};
};

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export const ALARM_STATE_OPERATIONS: ReadonlyMap<string, CloudWatchOperation> = new Map([['SetAlarmState', setAlarmState]]);
