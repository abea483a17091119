import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../functions/core/subscriptions/signature.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, until, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A loopback receiver: records every request; `/failing` answers 503, everything else 204. */
let receiver: Server;
let port: number;
const received: Received[] = [];
let stack: EmbeddedStack;
let s3: S3Client;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.statusCode = request.url === '/failing' ? 503 : 204;
      response.end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  port = (receiver.address() as AddressInfo).port;
  stack = await startTestStack('subscriptions');
  // Loopback is allowed by configuration only: this receiver's address and port, over http.
  stack.reconfigure({
    subscriptions: { destinations: { hosts: [{ host: '127.0.0.1', ports: [port], allowAddresses: ['127.0.0.1/32'] }], allowHttp: true } },
  });
  s3 = new S3Client({ forcePathStyle: true });
});
afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
  await new Promise((done) => receiver?.close(done));
});

const subscribe = (body: unknown, token = 'dev-admin') => api(stack, 'POST', '/subscriptions', { token, body });
const at = (path: string) => received.filter((request) => request.path === path);
/** What a receiver acts on: one entry per event id, however often it arrives. */
const dedupedById = (requests: Received[]) => new Map(requests.map((request) => [String(request.headers['x-maestro-event-id']), request]));

describe('subscriptions', () => {
  it('delivers one signed DriftDetected for an out-of-band change in prod, and its remediation parks for approval', async () => {
    const created = await subscribe({ url: `http://127.0.0.1:${port}/drift`, eventTypes: ['DriftDetected'], environments: ['prod'] });
    expect(created.status).toBe(201);
    const { secret, subscription } = created.body;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(subscription).toMatchObject({ kind: 'url', url: `http://127.0.0.1:${port}/drift`, eventTypes: ['DriftDetected'], environments: ['prod'] });
    // The secret is shown once: never listed, never read back.
    expect(JSON.stringify((await api(stack, 'GET', '/subscriptions', { token: 'dev-admin' })).body)).not.toContain(secret);
    expect(JSON.stringify((await api(stack, 'GET', `/subscriptions/${subscription.id}`, { token: 'dev-admin' })).body)).not.toContain(secret);

    const run = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'publish the prod notice',
        mode: 'APPLY',
        environment: 'prod',
        reasonForAccess: 'subscription test',
        tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'subscriptions/prod.txt', body: 'as reviewed\n' } }],
      },
    });
    await waitForRunWhere(stack, run.body.runId, (r) => r.status === 'AWAITING_APPROVAL', 'parked');
    await api(stack, 'POST', `/runs/${run.body.runId}/approve`, { token: 'dev-approver', body: {} });
    expect((await waitForRun(stack, run.body.runId)).status).toBe('SUCCEEDED');

    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: 'subscriptions/prod.txt', Body: 'edited in the console\n' }));
    const sweep = await api(stack, 'POST', '/drift/sweeps', { body: { environment: 'prod' } });
    expect(sweep.body.detected).toHaveLength(1);
    const finding = sweep.body.detected[0];
    await until(async () => at('/drift').length > 0, 'the DriftDetected delivery');
    // A second sweep sees the same drift: nothing new is delivered.
    expect((await api(stack, 'POST', '/drift/sweeps', { body: { environment: 'prod' } })).body.stillDrifted).toEqual([finding.id]);
    // Wait for the relay to pass the second sweep's writes (a run event of another run proves the relay moved on).
    const marker = await api(stack, 'POST', '/runs', { body: { goal: 'a marker', mode: 'PLAN', tasks: [{ action: 'noop', params: {} }] } });
    await waitForRun(stack, marker.body.runId);
    await until(
      async () => stack.eventBridge.delivered().some((event) => (event.Detail as { runId: string }).runId === marker.body.runId),
      'the relay past the marker',
    );

    const deliveries = at('/drift');
    const byId = dedupedById(deliveries);
    expect([...byId.keys()]).toEqual([`${finding.id}#0`]);
    expect(deliveries).toHaveLength(1);
    const [delivery] = deliveries;
    expect(verifySignature(secret, delivery.body, delivery.headers['x-maestro-signature-256'] as string)).toBe(true);
    expect(verifySignature('another secret', delivery.body, delivery.headers['x-maestro-signature-256'] as string)).toBe(false);
    const message = JSON.parse(delivery.body);
    expect(message).toMatchObject({
      id: `${finding.id}#0`,
      type: 'DriftDetected',
      environment: 'prod',
      runId: run.body.runId,
      payload: { findingId: finding.id, resource: `s3://${stack.demoBucket}/subscriptions/prod.txt` },
    });
    expect(message.payload.diff).toContain('-edited in the console');
    expect(message.payload.diff).toContain('+as reviewed');
    expect(delivery.headers['x-maestro-subscription-id']).toBe(subscription.id);

    const remediation = await api(stack, 'POST', `/drift/${finding.id}/remediate`, { body: { reason: 'undo the console edit' } });
    expect(remediation.status).toBe(201);
    await waitForRunWhere(stack, remediation.body.runId, (r) => r.status === 'AWAITING_APPROVAL', 'remediation parked for approval');
  });

  it('retries a failing receiver, then keeps the delivery as the subscription’s dead letter', async () => {
    const created = await subscribe({ url: `http://127.0.0.1:${port}/failing`, eventTypes: ['RunSucceeded'], environments: ['dev'] });
    expect(created.status).toBe(201);
    const run = await api(stack, 'POST', '/runs', { body: { goal: 'a run to announce', mode: 'APPLY', tasks: [{ action: 'noop', params: {} }] } });
    expect((await waitForRun(stack, run.body.runId)).status).toBe('SUCCEEDED');
    const id = created.body.subscription.id;
    let letters: { id: string; attempts: number; error: { category: string } }[] = [];
    await until(async () => {
      letters = (await api(stack, 'GET', `/subscriptions/${id}`, { token: 'dev-admin' })).body.deadLetters;
      return letters.length > 0;
    }, 'a dead letter');
    const events = (await api(stack, 'GET', `/runs/${run.body.runId}/events`)).body.events as { seq: number; type: string }[];
    const succeeded = events.find((event) => event.type === 'RunSucceeded')!;
    expect(letters).toMatchObject([{ id: `${run.body.runId}#${succeeded.seq}`, attempts: 3, error: { category: 'transient' } }]);
    // Three attempts reached the receiver, each with the same event id; nothing else was sent there.
    expect(at('/failing').map((request) => request.headers['x-maestro-event-id'])).toEqual(Array(3).fill(`${run.body.runId}#${succeeded.seq}`));
  });

  it('refuses destinations the egress guard does not allow, and callers who are not admins; nothing is recorded', async () => {
    const before = (await api(stack, 'GET', '/subscriptions', { token: 'dev-admin' })).body.subscriptions.length;
    const refused = [
      { url: 'http://169.254.169.254/latest/meta-data/', field: 'url' },
      { url: `http://127.0.0.1:${port + 1}/hook`, field: 'url' },
      { url: `http://localhost:${port}/hook`, field: 'url' },
      { url: 'https://hooks.example.com/x', field: 'url' },
    ];
    for (const { url, field } of refused) {
      const response = await subscribe({ url, eventTypes: ['*'] });
      expect(response.status, url).toBe(403);
      expect(response.body.error).toMatchObject({ code: 'SsrfBlocked', field });
    }
    const slack = await subscribe({ slack: { webhookUrl: 'https://hooks.slack.com/services/T/B/x' }, eventTypes: ['*'] });
    expect(slack.status).toBe(403);
    expect(slack.body.error.field).toBe('slack.webhookUrl');
    const sns = await subscribe({ sns: { topicArn: 'arn:aws:sns:us-east-1:000000000000:t' }, eventTypes: ['*'] });
    expect(sns.status).toBe(400);
    expect(sns.body.error.field).toBe('sns');
    const both = await subscribe({ url: `http://127.0.0.1:${port}/x`, slack: { webhookUrl: `http://127.0.0.1:${port}/y` }, eventTypes: ['*'] });
    expect(both.status).toBe(400);
    const unknownEnvironment = await subscribe({ url: `http://127.0.0.1:${port}/x`, eventTypes: ['*'], environments: ['nowhere'] });
    expect(unknownEnvironment.status).toBe(400);
    expect(unknownEnvironment.body.error.field).toBe('environments[0]');
    const badType = await subscribe({ url: `http://127.0.0.1:${port}/x`, eventTypes: ['constructor'] });
    expect(badType.status).toBe(400);
    expect(badType.body.error.field).toBe('eventTypes[0]');
    const operator = await subscribe({ url: `http://127.0.0.1:${port}/x`, eventTypes: ['*'] }, 'dev-operator');
    expect(operator.status).toBe(403);
    expect(operator.body.error.code).toBe('Forbidden');
    expect((await api(stack, 'GET', '/subscriptions', { token: 'dev-admin' })).body.subscriptions).toHaveLength(before);
  });

  it('deletes a subscription, once', async () => {
    const created = await subscribe({ url: `http://127.0.0.1:${port}/gone`, eventTypes: ['*'] });
    const id = created.body.subscription.id;
    expect((await api(stack, 'DELETE', `/subscriptions/${id}`, { token: 'dev-admin' })).status).toBe(200);
    expect((await api(stack, 'GET', `/subscriptions/${id}`, { token: 'dev-admin' })).status).toBe(404);
    const again = await api(stack, 'DELETE', `/subscriptions/${id}`, { token: 'dev-admin' });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('SubscriptionNotFound');
  });
});
