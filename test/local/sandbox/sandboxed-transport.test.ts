import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuardedHttpClient } from '../../../functions/adapters/guarded-http-client.ts';
import { egressPolicyFor } from '../../../functions/core/egress/policy.ts';
import { BudgetExceeded, SsrfBlocked } from '../../../functions/core/errors.ts';
import { sandboxedTransport } from '../../../local/sandbox/sandboxed-transport.ts';
import { startCountingServer } from '../../support/egress-servers.ts';
import type { CountingServer } from '../../support/egress-servers.ts';

let origin: CountingServer;
let canary: CountingServer;
beforeAll(async () => {
  canary = await startCountingServer((_request, response) => response.end('canary reached'));
  origin = await startCountingServer((request, response) => {
    if (request.url === '/hello') return response.end('hello from origin');
    if (request.url === '/big') return response.end('x'.repeat(5_000));
    response.writeHead(302, { location: `http://127.0.0.1:${canary.port}/` }).end();
  });
});
afterAll(async () => {
  await origin?.close();
  await canary?.close();
});

describe('the sandboxed transport of the fetch path (embedded stack)', () => {
  const client = new GuardedHttpClient({ transport: sandboxedTransport });
  const options = () => ({
    policy: egressPolicyFor({ dev: { allowHttp: true, hosts: [{ host: 'origin.test', ports: [origin.port], allowAddresses: ['127.0.0.1/32'] }] } }, 'dev'),
    resolve: async () => ['127.0.0.1'],
    maxBytes: 1_000,
    timeoutMs: 5_000,
  });

  it('fetches through a sandbox process', async () => {
    const response = await client.get(`http://origin.test:${origin.port}/hello`, options());
    expect(response.status).toBe(200);
    expect(Buffer.isBuffer(response.body)).toBe(true);
    expect(response.body.toString()).toBe('hello from origin');
  });

  it('re-checks each redirect in the calling process: a redirect to loopback is refused and the canary never reached', async () => {
    await expect(client.get(`http://origin.test:${origin.port}/redirect`, options())).rejects.toThrow(SsrfBlocked);
    expect(canary.connections).toBe(0);
  });

  it('brings the byte budget back as BudgetExceeded', async () => {
    await expect(client.get(`http://origin.test:${origin.port}/big`, options())).rejects.toThrow(BudgetExceeded);
  });
});
