// A minimal SSM Parameter Store endpoint for the embedded stack and tests: the
// unmodified SSMClient talks to it over loopback (AWS JSON 1.1,
// X-Amz-Target: AmazonSSM.<Operation>). Parameters and their version history
// live in dataDir, so a restarted stand-in still has them.

import { join } from 'node:path';
import { DocumentStore } from '../emulator-support/document-store.ts';
import { createJsonRpcListener } from '../emulator-support/json-rpc.ts';
import type { JsonRpcService } from '../emulator-support/json-rpc.ts';
import { listenOnLoopback } from '../emulator-support/loopback-server.ts';
import { parameterDocumentSchema } from './parameter-document.ts';
import { PARAMETER_LABELS } from './parameter-labels.ts';
import { PARAMETER_READS } from './parameter-reads.ts';
import { PARAMETER_WRITES } from './parameter-writes.ts';
import type { SsmContext } from './ssm-context.ts';
import { ssmError } from './ssm-errors.ts';

export interface SsmEmulatorOptions {
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

export interface RunningSsmEmulator {
  url: string;
  port: number;
  region: string;
  accountId: string;
  stop(): Promise<void>;
}

const SSM_SERVICE: JsonRpcService<SsmContext> = {
  owner: 'local SSM stand-in',
  targetPrefix: 'AmazonSSM',
  contentType: 'application/x-amz-json-1.1',
  operations: new Map([...PARAMETER_WRITES, ...PARAMETER_READS, ...PARAMETER_LABELS]),
  validationError: (message) => ssmError('ValidationException', message),
  internalCode: 'InternalServerError',
  // An advanced parameter holds 8 KiB; a request is never near this.
  maxBodyBytes: 256 * 1024,
};

export async function startSsmEmulator(options: SsmEmulatorOptions): Promise<RunningSsmEmulator> {
  const scope = { region: options.region ?? 'us-east-1', accountId: options.accountId ?? '000000000000' };
  const store = await DocumentStore.open({
    directory: join(options.dataDir, 'parameters'),
    schema: parameterDocumentSchema,
    keyOf: (document) => document.name,
    owner: 'SSM stand-in',
  });
  const server = await listenOnLoopback(createJsonRpcListener(SSM_SERVICE, { store, scope }), options, () => store.flush());
  return { ...server, ...scope };
}
