import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionContext } from '../../../functions/core/actions/contract.ts';
import type { RemoteActionRequest } from '../../../functions/core/actions/remote-protocol.ts';
import { ActionProtocolError, SsrfBlocked } from '../../../functions/core/errors.ts';
import { httpTransport, isLoopbackHost } from '../../../local/remote-actions/http-transport.ts';
import { s3NoteRemoteAction } from '../../fixtures/remote-actions/remote-actions.ts';

/** The HTTP transport against a loopback server standing in for a team's endpoint. */
let server: Server;
let base: string;
const received: RemoteActionRequest[] = [];
const plan = { summary: 'create it', change: 'create', resource: 's3://maestro-demo/remote/http.txt', diff: '', preconditions: {}, data: { via: 'http' } };

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    switch (request.url) {
      case '/good':
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, plan }));
        return;
      case '/down':
        response.writeHead(503, { 'content-type': 'text/plain' }).end('upstream is down');
        return;
      case '/redirect':
        response.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' }).end();
        return;
      case '/garbage':
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html>not json</html>');
        return;
      case '/slow':
        setTimeout(() => response.writeHead(200).end(JSON.stringify({ ok: true, plan })), 5_000).unref();
        return;
      default:
        response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

const params = { bucket: 'maestro-demo', key: 'remote/http.txt', text: 'hello' };
const ctx: ActionContext = {
  objects: {} as ActionContext['objects'],
  items: {} as ActionContext['items'],
  runId: 'run-1',
  taskIndex: 0,
  idempotencyKey: 'key-1',
  environment: 'dev',
  remote: httpTransport(),
};
const at = (path: string, timeMs?: number) => s3NoteRemoteAction({ endpoint: { url: `${base}${path}` }, timeMs });
const failure = (path: string, timeMs?: number) =>
  at(path, timeMs)
    .plan(params, ctx)
    .then(
      () => undefined,
      (error: Error) => error,
    );

describe('the HTTP transport', () => {
  it('POSTs the request as JSON and reads the reply from the body', async () => {
    const recorded = await at('/good').plan(params, ctx);
    expect(recorded.data).toEqual({ input: params, remote: { via: 'http' } });
    expect(received.at(-1)).toMatchObject({ protocol: 'maestro.action/v1', phase: 'plan', input: params });
  });

  it('an error status, a redirect, a body that is not JSON, no answer in time: ActionProtocolError', async () => {
    const down = await failure('/down');
    expect(down).toBeInstanceOf(ActionProtocolError);
    expect((down as ActionProtocolError).details).toMatchObject({ reason: 'http-status', status: 503, body: 'upstream is down' });
    expect((await failure('/redirect')) as ActionProtocolError).toMatchObject({ details: { reason: 'http-status', status: 302 } });
    expect((await failure('/garbage')) as ActionProtocolError).toMatchObject({ details: { reason: 'not-json' } });
    expect((await failure('/slow', 500)) as ActionProtocolError).toMatchObject({ details: { reason: 'timeout' } });
  });

  it('a refused connection → unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const error = await s3NoteRemoteAction({ endpoint: { url: `http://127.0.0.1:${port}/` } })
      .plan(params, ctx)
      .catch((caught: Error) => caught);
    expect(error).toMatchObject({ name: 'ActionProtocolError', details: { reason: 'unreachable' } });
  });

  it('refuses a URL off loopback before sending anything (SsrfBlocked)', async () => {
    const before = received.length;
    // TEST-NET-1 (RFC 5737): refused by the check, never connected to.
    const error = await s3NoteRemoteAction({ endpoint: { url: 'http://192.0.2.1/plan' } })
      .plan(params, ctx)
      .catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(SsrfBlocked);
    expect(received.length).toBe(before);
    expect(['127.0.0.1', '127.8.9.10', '[::1]', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['10.0.0.1', '0.0.0.0', '[::]', 'example.com', '127.0.0.1.example.com'].map(isLoopbackHost)).toEqual([false, false, false, false, false]);
  });
});
