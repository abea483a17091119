import { resolve } from 'node:path';
import type { PinnedTransport, PinnedResponse } from '../../functions/adapters/guarded-http-client.ts';
import { runInSandbox } from './sandbox-runner.ts';

const CLIENT = resolve(import.meta.dirname, '../../functions/adapters/request-pinned.ts');
/** All the request code reads: its own module, the core it imports (errors, address classes) and ipaddr.js. */
const READS = [resolve(import.meta.dirname, '../../functions/core'), resolve(import.meta.dirname, '../../node_modules/ipaddr.js')];

/** Time the sandbox process gets beyond the request's own budget to start, answer and exit. */
const START_MARGIN_MS = 3_000;

/**
 * The embedded stack's transport for the fetch path: every request http.fetch sends (the first and
 * each redirect, each already checked by the guard in the calling process) runs in its own sandbox
 * process (reads limited to that code, a scratch dir, no processes/workers/add-ons, no environment, one
 * allowed connection: the guard's host, port and address, 96 MB, killed past its time),
 * so the network I/O and the parsing of what a remote host sends never happen in the stack's process.
 */
export const sandboxedTransport: PinnedTransport = async (decision, request, signal) => {
  const response = await runInSandbox<PinnedResponse>({
    modulePath: CLIENT,
    exportName: 'requestPinned',
    args: [decision, request],
    allowRead: READS,
    // The one destination the guard checked: its host and port, landing on its pinned address only.
    allowConnect:
      decision.connectTo && decision.host && decision.port ? [{ host: decision.host, port: decision.port, addresses: [decision.connectTo.address] }] : [],
    timeMs: request.timeoutMs + START_MARGIN_MS,
    memoryMb: 96,
    signal,
  });
  return { ...response, body: Buffer.from(response.body) };
};
