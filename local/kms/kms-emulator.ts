// A minimal KMS-compatible endpoint on node:crypto for the embedded stack and
// tests: the unmodified KMSClient talks to it over loopback. Keys live in
// dataDir, so a restarted emulator still signs and verifies with them.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyStore } from './key-store.ts';
import { createKmsRequestListener } from './http-handler.ts';

export { ensureKmsKey, MAESTRO_KMS_KEYS } from './ensure-kms-key.ts';
export type { EnsuredKmsKey, KmsKeyRequirement } from './ensure-kms-key.ts';
export { createLocalKmsClient } from './local-kms-client.ts';
export { SUPPORTED_KEY_SPECS } from './key-specs.ts';
export type { SupportedKeySpec } from './key-specs.ts';

export interface KmsEmulatorOptions {
  dataDir: string;
  host?: string;
  /** 0 = a free port chosen by the OS. */
  port?: number;
  /** Default 000000000000. */
  accountId?: string;
  /** Default us-east-1. */
  region?: string;
}

export interface RunningKmsEmulator {
  url: string;
  port: number;
  region: string;
  accountId: string;
  stop(): Promise<void>;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_ACCOUNT_ID = '000000000000';
const DEFAULT_REGION = 'us-east-1';
// In-flight requests finish in milliseconds; past this, connections are cut.
const STOP_GRACE_MS = 2000;

export async function startKmsEmulator(options: KmsEmulatorOptions): Promise<RunningKmsEmulator> {
  const host = options.host ?? DEFAULT_HOST;
  const scope = { region: options.region ?? DEFAULT_REGION, accountId: options.accountId ?? DEFAULT_ACCOUNT_ID };
  const store = await KeyStore.open(options.dataDir);
  const server = createServer(createKmsRequestListener({ store, scope }));
  // SDK clients keep connections alive; closing must not wait on their idle timers.
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const forceClose = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
      await closed;
      clearTimeout(forceClose);
      await store.flush();
    })();
    return stopping;
  };

  return { url: `http://${urlHost}:${port}`, port, region: scope.region, accountId: scope.accountId, stop };
}
