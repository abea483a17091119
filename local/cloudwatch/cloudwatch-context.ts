// What every CloudWatch operation needs: the alarm documents and the account/region.

import type { DocumentStore } from '../emulator-support/document-store.ts';
import type { AlarmDocument } from './alarm-document.ts';

export interface CloudWatchScope {
  region: string;
  accountId: string;
}

export interface CloudWatchContext {
  store: DocumentStore<AlarmDocument>;
  scope: CloudWatchScope;
}

/** Input is the same object whichever protocol carried it; output may hold Dates. */
export type CloudWatchOperation = (context: CloudWatchContext, input: Record<string, unknown>) => Promise<object>;

export function alarmArn(scope: CloudWatchScope, alarmName: string): string {
  return `arn:aws:cloudwatch:${scope.region}:${scope.accountId}:alarm:${alarmName}`;
}
