import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server that records every connection and request it gets. */
export interface CountingServer {
  port: number;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

export async function startCountingServer(handle: (request: http.IncomingMessage, response: http.ServerResponse) => void): Promise<CountingServer> {
  const server = http.createServer((request, response) => {
    state.requests.push(request.url ?? '');
    handle(request, response);
  });
  const state: CountingServer = {
    port: 0,
    connections: 0,
    requests: [],
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on('connection', () => (state.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

export const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
