// A minimal CloudWatch alarms endpoint for the embedded stack and tests: the
// unmodified CloudWatchClient (and the AWS CLI) talk to it over loopback.
// It keeps metric alarms and their state, evaluates no metrics, and lets a
// test fire an alarm with SetAlarmState, as operators test alarms in AWS.
// Alarms live in dataDir and survive a restart.

import { join } from 'node:path';
import { DocumentStore } from '../emulator-support/document-store.ts';
import { listenOnLoopback } from '../emulator-support/loopback-server.ts';
import { alarmDocumentSchema } from './alarm-document.ts';
import { ALARM_WRITES } from './alarm-operations.ts';
import { ALARM_QUERIES } from './alarm-queries.ts';
import { ALARM_STATE_OPERATIONS } from './alarm-state.ts';
import { createCloudWatchRequestListener } from './http-handler.ts';

export interface CloudWatchEmulatorOptions {
  dataDir: string;
  /** @default 127.0.0.1 */
  host?: string;
  /** 0 = a free port chosen by the OS. @default 0 */
  port?: number;
  /** @default 000000000000 */
  accountId?: string;
  /** @default us-east-1 */
  region?: string;
}

export interface RunningCloudWatchEmulator {
  url: string;
  port: number;
  region: string;
  accountId: string;
  stop(): Promise<void>;
}

const OPERATIONS = new Map([...ALARM_WRITES, ...ALARM_QUERIES, ...ALARM_STATE_OPERATIONS]);

export async function startCloudWatchEmulator(options: CloudWatchEmulatorOptions): Promise<RunningCloudWatchEmulator> {
  const scope = { region: options.region ?? 'us-east-1', accountId: options.accountId ?? '000000000000' };
  const store = await DocumentStore.open({
    directory: join(options.dataDir, 'alarms'),
    schema: alarmDocumentSchema,
    keyOf: (document) => document.alarmName,
    owner: 'CloudWatch stand-in',
  });
  const server = await listenOnLoopback(createCloudWatchRequestListener({ store, scope }, OPERATIONS), options, () => store.flush());
  return { ...server, ...scope };
}
