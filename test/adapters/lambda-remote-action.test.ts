import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaRemoteActionTransport } from '../../functions/adapters/lambda-remote-action.ts';
import type { RemoteActionRequest } from '../../functions/core/actions/remote-protocol.ts';
import { ActionProtocolError, StalePlan, TransientError } from '../../functions/core/errors.ts';

/**
 * Remote actions as AWS runs them: the real SDK client and Invoke API, against a loopback stand-in for
 * Lambda's Invoke endpoint that answers as the function named in the path would.
 */
let server: Server;
let lambda: LambdaClient;
const invoked: { name: string; payload: RemoteActionRequest }[] = [];
const ARN = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const name =
      decodeURIComponent(/\/functions\/([^/]+)\/invocations/.exec(request.url ?? '')?.[1] ?? '')
        .split(':')
        .at(6) ?? '';
    invoked.push({ name, payload: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
    if (name === 'good') return json(200, { ok: true, outcome: { done: true } });
    if (name === 'garbage') return json(200, '"just a string"');
    if (name === 'stale') return json(200, { errorType: 'StalePlan', errorMessage: 'the thing changed' }, { 'x-amz-function-error': 'Unhandled' });
    if (name === 'timeout')
      return json(200, { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' }, { 'x-amz-function-error': 'Unhandled' });
    if (name === 'huge') return json(200, { ok: true, outcome: { blob: 'x'.repeat(300 * 1024) } });
    if (name === 'throttled') return json(429, { message: 'Rate exceeded', Type: 'User' }, { 'x-amzn-errortype': 'TooManyRequestsException' });
    return json(404, { message: `Function not found: ${name}`, Type: 'User' }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  lambda = new LambdaClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  lambda?.destroy();
  await new Promise((done) => server?.close(done));
});

const request: RemoteActionRequest = {
  protocol: 'maestro.action/v1',
  action: { name: 'team.thing', version: '1.0.0' },
  phase: 'apply',
  input: { id: 1 },
  plan: { summary: 's', change: 'update', resource: 'noop://', diff: '', preconditions: {}, data: {} },
  context: { runId: 'run-1', taskIndex: 0, idempotencyKey: 'key-1', attempt: 1, environment: 'prod', deadline: new Date().toISOString() },
};
const transport = () => new LambdaRemoteActionTransport({ client: lambda });
const invoke = (name: string) => transport().invoke({ lambdaArn: ARN(name) }, request, { timeMs: 10_000, maxReplyBytes: 256 * 1024 });
const failure = (name: string) =>
  invoke(name).then(
    () => undefined,
    (error: Error) => error,
  );

describe('the Lambda transport', () => {
  it('invokes the function with the request as its payload and returns the reply text', async () => {
    expect(JSON.parse(await invoke('good'))).toEqual({ ok: true, outcome: { done: true } });
    expect(invoked.at(-1)).toEqual({ name: 'good', payload: request });
    // The text is parsed by the protocol (core), as every transport's is.
    expect(await invoke('garbage')).toBe('"just a string"');
  });

  it('a function error keeps a mapped name (StalePlan in apply); any other is ActionProtocolError function-error', async () => {
    const stale = await failure('stale');
    expect(stale).toBeInstanceOf(StalePlan);
    expect(stale!.message).toContain('the thing changed');
    const timedOut = await failure('timeout');
    expect(timedOut).toBeInstanceOf(ActionProtocolError);
    expect((timedOut as ActionProtocolError).details).toMatchObject({ reason: 'function-error', errorType: 'Sandbox.Timedout', functionError: 'Unhandled' });
  });

  it('a payload past the limit → reply-too-large; throttling → TransientError; a missing function → unreachable', async () => {
    expect(((await failure('huge')) as ActionProtocolError).details).toMatchObject({ reason: 'reply-too-large' });
    expect(await failure('throttled')).toBeInstanceOf(TransientError);
    expect(((await failure('missing')) as ActionProtocolError).details).toMatchObject({ reason: 'unreachable', errorName: 'ResourceNotFoundException' });
  });
});
