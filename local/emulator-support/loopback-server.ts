// Listens on loopback for a stand-in and stops it gracefully: idle keep-alive
// connections are closed at once, busy ones are cut after a short grace.

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

export interface LoopbackServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 = a free port chosen by the OS. @default 0 */
  port?: number;
}

export interface RunningLoopbackServer {
  url: string;
  port: number;
  /** Stops accepting, waits for in-flight requests, then runs `onStopped`. */
  stop(): Promise<void>;
}

const DEFAULT_HOST = '127.0.0.1';
// In-flight requests finish in milliseconds; past this, connections are cut.
const STOP_GRACE_MS = 2000;

export async function listenOnLoopback(
  listener: RequestListener,
  options: LoopbackServerOptions,
  onStopped: () => Promise<void>,
): Promise<RunningLoopbackServer> {
  const host = options.host ?? DEFAULT_HOST;
  const server = createServer(listener);
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
      await onStopped();
    })();
    return stopping;
  };
  return { url: `http://${urlHost}:${port}`, port, stop };
}
