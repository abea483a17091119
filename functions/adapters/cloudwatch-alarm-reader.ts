import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchClient, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import type { AlarmReader, AlarmState, AlarmStatus } from '../core/actions/target-ports.ts';
import { failTargetCall as fail } from './target-sdk-errors.ts';

// DescribeAlarms takes at most 100 names per call.
const NAMES_PER_CALL = 100;

/** The AlarmReader port on CloudWatch: SDK failures become domain errors here and nowhere else. */
export class CloudWatchAlarmReader implements AlarmReader {
  readonly #cloudwatch: CloudWatchClient;

  constructor(client: CloudWatchClient) {
    this.#cloudwatch = client;
  }

  async read(names: readonly string[]): Promise<{ alarms: AlarmStatus[]; missing: string[] }> {
    const unique = [...new Set(names)];
    const found = new Map<string, AlarmStatus>();
    for (let start = 0; start < unique.length; start += NAMES_PER_CALL) {
      const batch = unique.slice(start, start + NAMES_PER_CALL);
      let nextToken: string | undefined;
      try {
        do {
          const page = await this.#cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: batch, AlarmTypes: ['MetricAlarm'], NextToken: nextToken }));
          for (const alarm of page.MetricAlarms ?? []) if (alarm.AlarmName) found.set(alarm.AlarmName, toStatus(alarm));
          nextToken = page.NextToken;
        } while (nextToken);
      } catch (error) {
        return fail(error, `reading CloudWatch alarms ${batch.join(', ')}`);
      }
    }
    return {
      alarms: unique.flatMap((name) => (found.has(name) ? [found.get(name)!] : [])),
      missing: unique.filter((name) => !found.has(name)),
    };
  }
}

function toStatus(alarm: MetricAlarm): AlarmStatus {
  return {
    name: alarm.AlarmName!,
    state: (alarm.StateValue ?? 'INSUFFICIENT_DATA') as AlarmState,
    reason: alarm.StateReason ?? '',
    updatedAt: alarm.StateUpdatedTimestamp ?? new Date(0),
  };
}
