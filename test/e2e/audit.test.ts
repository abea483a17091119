import { GetObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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
    body: {
      goal,
      mode: 'APPLY',
      reasonForAccess: 'audit test',
      tasks: [
        { action: 'noop', params: {} },
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key: `audit/${goal}.txt`, body: goal } },
      ],
    },
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
    await items.send(
      new UpdateCommand({
        TableName: stack.stateTable,
        Key: { pk: `RUN#${runId}`, sk: 'RUN' },
        UpdateExpression: 'SET lastEventHash = :h',
        ExpressionAttributeValues: { ':h': prevHash },
      }),
    );

    const { body } = await api(stack, 'GET', `/runs/${runId}/audit/verify`);
    expect(body.headHash).toBe(prevHash);
    // The first checkpoint covering seq 2 no longer matches: the break is located within its range.
    const covering = body.anchors.find((anchor: { fromSeq: number; toSeq: number }) => anchor.fromSeq <= 2 && anchor.toSeq >= 2);
    expect(body).toMatchObject({ ok: false, signedHeadMatches: false, firstBrokenSeq: covering.toSeq });
    expect(covering).toMatchObject({ matches: false, signatureValid: true });
    expect(body.signedHead.signatureValid).toBe(true);
  });
});

/** Rewrites events from `fromSeq` on with their hashes recomputed, and the run record's head: a consistent forgery of the table. */
async function rewriteChain(runId: string, fromSeq: number, change: (event: RunEvent) => RunEvent) {
  const events = await storedEvents(runId);
  let prevHash = events[fromSeq - 2]?.hash ?? GENESIS_HASH;
  for (const event of events.slice(fromSeq - 1)) {
    const { hash: _old, ...rest } = { ...change(event), prevHash };
    const hash = hashEvent(rest);
    await items.send(new PutCommand({ TableName: stack.stateTable, Item: { ...eventKey(runId, event.seq), entity: 'Event', ...rest, hash } }));
    prevHash = hash;
  }
  await items.send(
    new UpdateCommand({
      TableName: stack.stateTable,
      Key: { pk: `RUN#${runId}`, sk: 'RUN' },
      UpdateExpression: 'SET lastEventHash = :h',
      ExpressionAttributeValues: { ':h': prevHash },
    }),
  );
}

const verify = async (runId: string) => (await api(stack, 'GET', `/runs/${runId}/audit/verify`)).body;

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 400; i += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never: ${what}`);
}

describe('audit anchoring: every event under a signed head, the signed status the record status', () => {
  it('anchors a parked run, so a rewritten approval event fails verify, and Finalize does not sign the forgery', async () => {
    const created = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'parked',
        mode: 'APPLY',
        environment: 'prod',
        reasonForAccess: 'audit test',
        tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'audit/parked.txt', body: 'parked' } }],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const runId = created.body.runId as string;
    // Parked: the checkpoints signed so far cover the whole trail. As in AWS, the steps that hold the
    // signing grant sign them: Admit (PLANNING) and RequestApproval (AWAITING_APPROVAL, covering PLANNED).
    const parked = await until(
      'parked and anchored',
      () => verify(runId),
      (body) => body.ok && body.anchors.at(-1)?.status === 'AWAITING_APPROVAL',
    );
    expect(parked.unanchored).toBeUndefined();
    expect(parked.anchors.map((anchor: { status: string }) => anchor.status)).toEqual(['PLANNING', 'AWAITING_APPROVAL']);
    expect(parked.anchors[0].fromSeq).toBe(1);
    expect(parked.anchors.at(-1).toSeq).toBe(parked.eventCount);

    // The attack: rewrite who may approve in the ApprovalRequested event, consistently (hashes and run head).
    const requested = (await storedEvents(runId)).find((event) => event.type === 'ApprovalRequested')!;
    await rewriteChain(runId, requested.seq, (event) =>
      event.seq === requested.seq ? { ...event, message: 'approval requested from mallory', payload: { ...event.payload, approvers: ['mallory'] } } : event,
    );
    const forged = await verify(runId);
    expect(forged.ok).toBe(false);
    expect(forged.firstBrokenSeq).toBeGreaterThanOrEqual(requested.seq);
    expect(forged.anchors.find((anchor: { toSeq: number }) => anchor.toSeq >= requested.seq)).toMatchObject({ matches: false, signatureValid: true });

    // The run goes on (signing never changes how a run ends), but no head is signed over the forgery.
    expect((await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: {} })).status).toBe(200);
    expect((await waitForRun(stack, runId)).status).toBe('SUCCEEDED');
    await until(
      'the workflow ended',
      () => api(stack, 'GET', `/runs/${runId}/events`),
      (response) => response.body.events.some((event: { type: string }) => event.type === 'RunSucceeded'),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await verify(runId);
    expect(after).toMatchObject({ ok: false, signedHeadMatches: null });
    expect(after.anchors.at(-1).status).toBe('AWAITING_APPROVAL'); // nothing signed since the forgery
    expect(after.unanchored.toSeq).toBe(after.eventCount);
    expect(await auditVerifyWithCli(runId)).toBe(1);
  });

  it('fails on events appended after the signed head (chained and with the run record updated)', async () => {
    const { runId } = await finishedRun('appended');
    expect(await verify(runId)).toMatchObject({ ok: true, statusMatches: true });
    const events = await storedEvents(runId);
    const last = events.at(-1)!;
    const { hash: _hash, ...rest } = {
      ...last,
      seq: last.seq + 1,
      type: 'RunNote',
      level: 'INFO' as const,
      message: 'appended after the end',
      payload: undefined,
      prevHash: last.hash,
      ts: new Date().toISOString(),
    };
    const hash = hashEvent(rest);
    await items.send(
      new PutCommand({ TableName: stack.stateTable, Item: { ...eventKey(runId, rest.seq), entity: 'Event', ...JSON.parse(JSON.stringify(rest)), hash } }),
    );
    await items.send(
      new UpdateCommand({
        TableName: stack.stateTable,
        Key: { pk: `RUN#${runId}`, sk: 'RUN' },
        UpdateExpression: 'SET lastEventHash = :h, eventSeq = :n',
        ExpressionAttributeValues: { ':h': hash, ':n': rest.seq },
      }),
    );
    const body = await verify(runId);
    expect(body).toMatchObject({ ok: false, signedHeadMatches: true, unanchored: { fromSeq: rest.seq, toSeq: rest.seq } });
    expect(body.firstBrokenSeq).toBeUndefined(); // every link holds: the event is simply not anchored
    expect(await auditVerifyWithCli(runId)).toBe(1);
  });

  it('fails when the run record says another status than the signed head', async () => {
    const { runId } = await finishedRun('restatused');
    await items.send(
      new UpdateCommand({
        TableName: stack.stateTable,
        Key: { pk: `RUN#${runId}`, sk: 'RUN' },
        UpdateExpression: 'SET #status = :s',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':s': 'ROLLED_BACK' },
      }),
    );
    const body = await verify(runId);
    expect(body).toMatchObject({ ok: false, signedHeadMatches: true, statusMatches: false });
    expect(body.note).toContain('the run record says ROLLED_BACK');
    expect(await auditVerifyWithCli(runId)).toBe(1);
  });

  it('reports which anchor covers which seq range, for the API and the CLI', async () => {
    const { runId } = await finishedRun('ranges');
    const body = await verify(runId);
    expect(body.ok).toBe(true);
    let next = 1;
    for (const anchor of body.anchors) {
      expect(anchor.fromSeq).toBe(next);
      expect(anchor).toMatchObject({ matches: true, signatureValid: true });
      next = anchor.toSeq + 1;
    }
    expect(next).toBe(body.eventCount + 1);
    expect(body.anchors.at(-1)).toMatchObject({ kind: 'final', status: 'SUCCEEDED', toSeq: body.eventCount });
    const lines: string[] = [];
    expect(await auditVerifyWithCli(runId, lines)).toBe(0);
    expect(lines.join('\n')).toMatch(/seq 1–\d+: checkpoint head, status PLANNING/);
    expect(lines.join('\n')).toMatch(new RegExp(`seq \\d+–${body.eventCount}: final head, status SUCCEEDED`));
  });
});

describe('GET /audit/export', () => {
  it('streams the trail as JSON Lines for admins, oldest run first and seq by seq', async () => {
    const before = new Date().toISOString();
    const { runId } = await finishedRun('exported');
    const response = await fetch(`${stack.endpoints.api}/audit/export?since=${encodeURIComponent(before)}`, { headers: { authorization: 'Bearer dev-admin' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
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

async function auditVerifyWithCli(runId: string, lines: string[] = []): Promise<number> {
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
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
