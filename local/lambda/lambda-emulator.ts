// A minimal Lambda control-plane endpoint for the embedded stack and tests:
// the unmodified LambdaClient talks to it over loopback (REST-JSON, API
// version 2015-03-31). It keeps functions, versions and aliases as metadata
// and runs no code but what the host registers (`host`, for Invoke). State
// lives in dataDir and survives a restart.

import { join } from 'node:path';
import { DocumentStore } from '../emulator-support/document-store.ts';
import { listenOnLoopback } from '../emulator-support/loopback-server.ts';
import { addAliasRoutes } from './alias-operations.ts';
import { functionDocumentSchema } from './function-document.ts';
import { addFunctionRoutes } from './function-operations.ts';
import { createLambdaRequestListener } from './http-handler.ts';
import { addInvokeRoutes } from './invoke-operations.ts';
import type { HostedFunction } from './lambda-context.ts';
import { RestRoutes } from './rest-routes.ts';
import { addVersionRoutes } from './version-operations.ts';

export interface LambdaEmulatorOptions {
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

export interface RunningLambdaEmulator {
  url: string;
  port: number;
  region: string;
  accountId: string;
  /** Makes `name` invokable (Invoke, unqualified or $LATEST): `run` gets each event and answers it. */
  host(name: string, run: HostedFunction): void;
  stop(): Promise<void>;
}

export async function startLambdaEmulator(options: LambdaEmulatorOptions): Promise<RunningLambdaEmulator> {
  const scope = { region: options.region ?? 'us-east-1', accountId: options.accountId ?? '000000000000' };
  const store = await DocumentStore.open({
    directory: join(options.dataDir, 'functions'),
    schema: functionDocumentSchema,
    keyOf: (document) => document.name,
    owner: 'Lambda stand-in',
  });
  const routes = new RestRoutes();
  addFunctionRoutes(routes);
  addVersionRoutes(routes);
  addAliasRoutes(routes);
  addInvokeRoutes(routes);
  const hosted = new Map<string, HostedFunction>();
  const server = await listenOnLoopback(createLambdaRequestListener({ store, scope, hosted }, routes), options, () => store.flush());
  return { ...server, ...scope, host: (name, run) => void hosted.set(name, run) };
}
