// What every Lambda operation gets: the function documents, the account/region,
// and one request already split into path parameters, query and JSON body.

import type { DocumentStore } from '../emulator-support/document-store.ts';
import type { FunctionDocument } from './function-document.ts';
import type { LambdaScope } from './function-names.ts';

export interface LambdaContext {
  store: DocumentStore<FunctionDocument>;
  scope: LambdaScope;
}

export interface RestRequest {
  /** Decoded path parameters, e.g. FunctionName and Name. */
  params: ReadonlyMap<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

export interface RestReply {
  status: number;
  body?: object;
}

export type LambdaOperation = (context: LambdaContext, request: RestRequest) => Promise<RestReply>;
