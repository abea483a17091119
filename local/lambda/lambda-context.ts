// What every Lambda operation gets: the function documents, the account/region,
// and one request already split into path parameters, query and JSON body.

import type { DocumentStore } from '../emulator-support/document-store.ts';
import type { FunctionDocument } from './function-document.ts';
import type { LambdaScope } from './function-names.ts';

export interface LambdaContext {
  store: DocumentStore<FunctionDocument>;
  scope: LambdaScope;
  /** The functions whose code the host runs (invoke-operations.ts), by function name. */
  hosted: ReadonlyMap<string, HostedFunction>;
}

/** A function's code as the host runs it: the event in, the handler's answer out (a throw is a function error). */
export type HostedFunction = (event: unknown) => Promise<unknown>;

export interface RestRequest {
  /** Decoded path parameters, e.g. FunctionName and Name. */
  params: ReadonlyMap<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The request body as sent (Invoke's payload is any JSON). */
  payload: Buffer;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface RestReply {
  status: number;
  body?: object;
  /** A body sent as is (Invoke's answer), instead of `body`. */
  raw?: string;
  headers?: Readonly<Record<string, string>>;
}

export type LambdaOperation = (context: LambdaContext, request: RestRequest) => Promise<RestReply>;
