// What every SSM operation needs: the parameter documents and the account/region.

import type { DocumentStore } from '../emulator-support/document-store.ts';
import type { JsonOperation } from '../emulator-support/json-rpc.ts';
import type { ParameterDocument } from './parameter-document.ts';
import type { SsmScope } from './parameter-names.ts';

export interface SsmContext {
  store: DocumentStore<ParameterDocument>;
  scope: SsmScope;
}

export type SsmOperation = JsonOperation<SsmContext>;

/** The caller every change is attributed to: requests are not authenticated locally. */
export function lastModifiedUser(scope: SsmScope): string {
  return `arn:aws:iam::${scope.accountId}:root`;
}
