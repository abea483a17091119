import { GetObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashEvent, GENESIS_HASH } from '../../functions/core/runs/journal.ts';
import type { RunEvent } from '../../functions/core/runs/model.ts';
import { main as auditVerifyCli } from '../../local/cli/audit-verify.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../support/test-stack.ts';

let stack: EmbeddedStack;
let items: DynamoDBDocumentClient;
let s3: S3Client;

beforeAll(async () => {
  stack = await startTestStack('audit');
  items = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  s3 = new S3Client({ forcePathStyle: true });
});
afterAll(async () => {
  await stack?.stop();
});

const eventKey = (runId: string, seq: number) => ({ pk: `RUN#${runId}`, sk: `EVENT#${String(seq).padStart(10, '0')}` });

/** A finished APPLY run whose head has been signed (signing follows the final commit within Finalize). */
async function finishedRun(goal: string, headers: Record<string, string> = {}) {
  const created = await api(stack, 'POST', '/runs', {
    headers,
    body: { goal, mode: 'APPLY', reasonForAccess: 'audit test', tasks: [{ action: 'noop', params: {} }, { action: 's3.put-object', params: { bucket: stack.demoBucket, key: `audit/${goal}.txt`, body: goal } }] },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const runId = created.body.runId as string;
  const run = await waitForRun(stack, runId);
  expect(run.status).toBe('SUCCEEDED');
  // The execution ends after Finalize has signed the head; poll the verification until it sees it.
  for (let i = 0; i < 200; i += 1) {
    const { body } = await api(stack, 'GET', `/runs/${runId}/audit/verify`);
    if (body.signedHeadMatches !== null) return { runId, run, created };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${runId} never got a signed head`);
}

async function storedEvents(runId: string): Promise<RunEvent[]> {
  const { body } = await api(stack, 'GET', `/runs/${runId}/events`);
  return body.events.map((event: Omit<RunEvent, 'runId'>) => ({ runId, ...event }));
}

describe('GET /runs/{id}/audit/verify', () => {
  it('passes for a real run, with the head signed by KMS into the versioned artifact bucket', async () => {
    const { runId, run } = await finishedRun('intact');
    const { status, body } = await api(stack, 'GET', `/runs/${runId}/audit/verify`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, eventCount: run.eventCount, headHash: run.auditHead, signedHeadMatches: true });
    expect(body.firstBrokenSeq).toBeUndefined();
    expect(body.signedHead).toMatchObject({ eventCount: run.eventCount, headHash: run.auditHead, status: 'SUCCEEDED', signatureValid: true });
    expect(body.signedHead.keyId).toMatch(/^arn:aws:kms:.*:key\//);

    const object = await s3.send(new GetObjectCommand({ Bucket: 'maestro-artifacts', Key: `audit/heads/${runId}.json` }));
    const head = JSON.parse(await object.Body!.transformToString());
    expect(head).toMatchObject({ runId, eventCount: run.eventCount, headHash: run.auditHead, algorithm: 'ECDSA_SHA_256' });
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'maestro-artifacts', Prefix: `audit/heads/${runId}` }));
    expect(versions.Versions?.length).toBe(1);
    expect(versions.Versions?.[0].VersionId).not.toBe('null');

    const unknown = await api(stack, 'GET', '/runs/no-such-run/audit/verify');
    expect(unknown.status).toBe(404);
    expect(await auditVerifyWithCli(runId)).toBe(0);
  });

  it('fails naming the seq when a stored event is altered in DynamoDB directly', async () => {
    const { runId } = await finishedRun('altered');
    await items.send(
      new UpdateCommand({
        TableName: stack.stateTable,
        Key: eventKey(runId, 3),
        UpdateExpression: 'SET #message = :message',
        ExpressionAttributeNames: { '#message': 'message' },
        ExpressionAttributeValues: { ':message': 'nothing to see here' },
      }),
    );
    const { status, body } = await api(stack, 'GET', `/runs/${runId}/audit/verify`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, firstBrokenSeq: 3 });
    expect(await auditVerifyWithCli(runId)).toBe(1);
  });

  it('catches a consistent rewrite of the whole chain (and the run record) through the signed head', async () => {
    const { runId } = await finishedRun('rewritten');
    const events = await storedEvents(runId);
    let prevHash = GENESIS_HASH;
    for (const event of events) {
      const { hash: _old, ...rest } = { ...event, message: event.seq === 2 ? 'a quieter story' : event.message, prevHash };
      const hash = hashEvent(rest);
      await items.send(
        new UpdateCommand({
          TableName: stack.stateTable,
          Key: eventKey(runId, event.seq),
          UpdateExpression: 'SET #message = :message, prevHash = :prev, #hash = :hash',
          ExpressionAttributeNames: { '#message': 'message', '#hash': 'hash' },
          ExpressionAttributeValues: { ':message': rest.message, ':prev': prevHash, ':hash': hash },
        }),
      );
      prevHash = hash;
    }
    await items.send(new UpdateCommand({ TableName: stack.stateTable, Key: { pk: `RUN#${runId}`, sk: 'RUN' }, UpdateExpression: 'SET lastEventHash = :h', ExpressionAttributeValues: { ':h': prevHash } }));

    const { body } = await api(stack, 'GET', `/runs/${runId}/audit/verify`);
    expect(body.headHash).toBe(prevHash);
    expect(body).toMatchObject({ ok: false, signedHeadMatches: false, firstBrokenSeq: events.length });
    expect(body.signedHead.signatureValid).toBe(true);
  });
});

describe('GET /audit/export', () => {
  it('streams the trail as JSON Lines for admins, oldest run first and seq by seq', async () => {
    const before = new Date().toISOString();
    const { runId } = await finishedRun('exported');
    const response = await fetch(`${stack.endpoints.api}/audit/export?since=${encodeURIComponent(before)}`, { headers: { authorization: 'Bearer dev-admin' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as RunEvent);
    const ofRun = lines.filter((line) => line.runId === runId);
    expect(ofRun.length).toBeGreaterThan(5);
    expect(ofRun.map((line) => line.seq)).toEqual(ofRun.map((_, i) => i + 1));
    expect(lines.every((line) => line.ts >= before)).toBe(true);
    // Each line carries its hashes: a SIEM can re-verify the chain from the export alone.
    for (const line of ofRun) {
      const { hash, ...rest } = line;
      expect(hashEvent(rest)).toBe(hash);
    }
    expect(Number(response.headers.get('x-record-count'))).toBe(lines.length);

    const all = await fetch(`${stack.endpoints.api}/audit/export`, { headers: { authorization: 'Bearer dev-admin' } });
    expect((await all.text()).trimEnd().split('\n').length).toBeGreaterThan(lines.length);

    expect((await api(stack, 'GET', '/audit/export')).status).toBe(403);
    const bad = await api(stack, 'GET', '/audit/export?since=yesterday', { token: 'dev-admin' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'ValidationFailed', field: 'since' });
  });
});

async function auditVerifyWithCli(runId: string): Promise<number> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const previous = process.env.MAESTRO_API_URL;
  process.env.MAESTRO_API_URL = stack.endpoints.api;
  try {
    return await auditVerifyCli([runId]);
  } finally {
    process.env.MAESTRO_API_URL = previous;
    if (previous === undefined) delete process.env.MAESTRO_API_URL;
    log.mockRestore();
  }
}
