import { createServer } from 'node:net';
import { randomInt } from 'node:crypto';

/**
 * Ports handed out here lie below Linux's ephemeral range (32768-60999): a server listening on port 0
 * or an outgoing connection takes its port from that range, so between this check and the caller's
 * own listen nothing of ours, or of the kernel's, is given the same port by chance.
 */
const FIRST_PORT = 20_000;
const LAST_PORT = 32_767;

/** A TCP port that was free a moment ago on the host (for child processes that cannot listen on 0). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomInt(FIRST_PORT, LAST_PORT + 1);
    if (await isFree(port, host)) return port;
  }
  throw new Error(`no free TCP port between ${FIRST_PORT} and ${LAST_PORT} on ${host} after 50 tries`);
}

function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
