import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

const REASON = 'approvals end-to-end test';
let stack: EmbeddedStack;
let s3: S3Client;

beforeAll(async () => {
  Object.assign(process.env, {
    // qa: two approvals of three listed approvers; sandbox: a deadline of two seconds.
    MAESTRO_CONFIG__environments__qa:
      '{autonomyCeiling: 1, approvers: [dev-approver, dev-admin, dev-operator], quorum: 2, approvalDeadlineSeconds: 600, managedResources: {buckets: [maestro-demo]}}',
    MAESTRO_CONFIG__environments__sandbox:
      '{autonomyCeiling: 0, approvers: [dev-approver], approvalDeadlineSeconds: 2, managedResources: {buckets: [maestro-demo]}}',
  });
  stack = await startTestStack('approvals', { approvalSweepMs: 200 });
  s3 = new S3Client({ forcePathStyle: true });
});
afterAll(async () => {
  await stack?.stop();
});

interface Recorded {
  channel: string;
  kind: string;
  runId: string;
  to?: string;
  payload?: any;
  links?: { approver: string; url: string }[];
}
const notifications = (runId: string): Recorded[] => {
  const file = join(stack.dataDir, 'notifications.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Recorded)
    .filter((entry) => entry.runId === runId);
};
const linkFor = (runId: string, approver: string) =>
  notifications(runId).find((entry) => entry.channel === 'email' && entry.kind === 'approval-request' && entry.links?.[0].approver === approver)!.links![0].url;
const exists = (key: string) =>
  s3.send(new HeadObjectCommand({ Bucket: stack.demoBucket, Key: key })).then(
    () => true,
    () => false,
  );
/** Where a refused link's effects would live: the run's events (and the run record's seq), and its outbox rows. */
async function trailSize(runId: string) {
  const items = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const count = async (pk: string, prefix?: string) =>
    (
      await items.send(
        new QueryCommand({
          TableName: stack.stateTable,
          KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :sk)' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk, ...(prefix ? { ':sk': prefix } : {}) },
          Select: 'COUNT',
        }),
      )
    ).Count;
  return {
    events: await count(`RUN#${runId}`, 'EVENT#'),
    outbox: await count(`OUTBOX#${runId}`),
    eventSeq: (await api(stack, 'GET', `/runs/${runId}`)).body.run.eventSeq,
  };
}
const eventTypes = async (runId: string) => ((await api(stack, 'GET', `/runs/${runId}/events`)).body.events as { type: string }[]).map((event) => event.type);

async function parkedRun(environment: string, key: string, goal = 'approval test', token = 'dev-operator') {
  const created = await api(stack, 'POST', '/runs', {
    token,
    body: {
      goal,
      mode: 'APPLY',
      environment,
      reasonForAccess: REASON,
      tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: `${key}\n` } }],
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const runId = created.body.runId as string;
  await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL' && run.approval?.notifiedAt, 'parked for approval, approvers notified');
  return runId;
}

const post = (url: string, form: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() }).then(
    async (response) => ({ status: response.status, html: await response.text() }),
  );

describe('human approvals by signed links', () => {
  it('notifies approvers (Block Kit to Slack, a link each by email), shows the plan on GET without deciding, approves on POST, and the run applies', async () => {
    const runId = await parkedRun('prod', 'approvals/happy.txt');
    const slack = notifications(runId).find((entry) => entry.channel === 'slack' && entry.kind === 'approval-request')!;
    expect(slack.payload.text).toContain('Approval needed');
    expect(slack.payload.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    for (const block of slack.payload.blocks) expect(['header', 'section', 'context', 'divider']).toContain(block.type);
    expect(JSON.stringify(slack.payload.blocks)).toContain('create s3://');
    expect(JSON.stringify(slack.payload)).not.toContain(stack.endpoints.api); // links go to each approver alone
    const emails = notifications(runId).filter((entry) => entry.channel === 'email');
    expect(emails.map((entry) => entry.links![0].approver).sort()).toEqual(['dev-admin', 'dev-approver']); // never the requester

    const url = linkFor(runId, 'dev-approver');
    const page = await fetch(url);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('create s3://');
    expect(html).toContain('<form method="post"');
    await sleep(300);
    expect((await api(stack, 'GET', `/runs/${runId}`)).body.run.status).toBe('AWAITING_APPROVAL'); // a GET never decides

    const decided = await post(url, { decision: 'approve', comment: 'diff checked' });
    expect(decided.status).toBe(200);
    expect(decided.html).toContain('APPROVED');
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.approval.decisions).toMatchObject([{ by: 'dev-approver', decision: 'approve', comment: 'diff checked', via: 'link' }]);
    expect(await exists('approvals/happy.txt')).toBe(true);
    expect(notifications(runId).some((entry) => entry.kind === 'approval-outcome')).toBe(true);

    const before = await trailSize(runId);
    const replay = await post(url, { decision: 'approve' });
    expect(replay.status).toBe(403);
    expect(replay.html).toContain('already used');
    // The run has finished: its trail is closed, even to a genuine link's refusal.
    expect(await trailSize(runId)).toEqual(before);
    expect(await eventTypes(runId)).not.toContain('ApprovalLinkRefused');
  });

  it('refuses a forged link (one byte changed) with a clear page, writes nothing, and the run does not move', async () => {
    const runId = await parkedRun('prod', 'approvals/forged.txt');
    const url = linkFor(runId, 'dev-approver');
    const token = url.split('/approvals/')[1];
    const [body, mac] = token.split('.');
    const bytes = Buffer.from(body, 'base64url');
    bytes[bytes.length - 3] ^= 0x01;
    const forged = `${url.split('/approvals/')[0]}/approvals/${bytes.toString('base64url')}.${mac}`;
    const before = await trailSize(runId);
    const response = await post(forged, { decision: 'approve' });
    expect(response.status).toBe(403);
    expect(response.html).toContain('not issued by Maestro');
    const get = await fetch(forged);
    expect(get.status).toBe(403);
    expect((await api(stack, 'GET', `/runs/${runId}`)).body.run.status).toBe('AWAITING_APPROVAL');
    // An unauthenticated request whose MAC does not verify costs no event and no outbox row.
    expect(await trailSize(runId)).toEqual(before);
    expect(await eventTypes(runId)).not.toContain('ApprovalLinkRefused');
    await api(stack, 'POST', `/runs/${runId}/cancel`);
  });

  it('ends REJECTED with nothing applied when an approver rejects', async () => {
    const runId = await parkedRun('prod', 'approvals/rejected.txt');
    const response = await post(linkFor(runId, 'dev-admin'), { decision: 'reject', comment: 'not during the sale' });
    expect(response.status).toBe(200);
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('REJECTED');
    expect(await exists('approvals/rejected.txt')).toBe(false);
  });

  it('voids the approval and applies nothing when the resource changed after the plan', async () => {
    const key = 'approvals/changed.txt';
    const runId = await parkedRun('prod', key);
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: key, Body: 'a human got there first\n' }));
    expect((await post(linkFor(runId, 'dev-approver'), { decision: 'approve' })).status).toBe(200);
    const run = await waitForRun(stack, runId);
    expect(['FAILED', 'ROLLED_BACK']).toContain(run.status);
    expect(run.error.name).toBe('StalePlan');
    expect(await eventTypes(runId)).toContain('ApprovalVoided');
    const body = await (await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: key }))).Body!.transformToString();
    expect(body).toBe('a human got there first\n');
  });

  it('needs two distinct approvers for a 2-of-3 quorum; the requester never counts, nobody counts twice', async () => {
    const runId = await parkedRun('qa', 'approvals/quorum.txt', 'quorum test', 'dev-admin');
    const own = await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-admin', body: {} });
    expect(own.status).toBe(403);
    expect(own.body.error.message).toContain('requester');
    expect(
      notifications(runId)
        .filter((entry) => entry.channel === 'email')
        .map((entry) => entry.links![0].approver)
        .sort(),
    ).toEqual(['dev-approver', 'dev-operator']);
    const first = await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: { comment: 'one' } });
    expect(first.status).toBe(200);
    expect(first.body.approval.state).toBe('PENDING');
    expect((await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: {} })).status).toBe(409);
    const pending = (await api(stack, 'GET', '/approvals')).body.approvals.find((entry: { runId: string }) => entry.runId === runId);
    expect(pending).toMatchObject({ quorum: 2, approvals: ['dev-approver'] });
    expect(await exists('approvals/quorum.txt')).toBe(false);
    const second = await post(linkFor(runId, 'dev-operator'), { decision: 'approve' });
    expect(second.status).toBe(200);
    expect((await waitForRun(stack, runId)).status).toBe('SUCCEEDED');
    expect(await exists('approvals/quorum.txt')).toBe(true);
  });

  it('expires a wait at its deadline: EXPIRED, nothing applied, and the link then says so', async () => {
    const runId = await parkedRun('sandbox', 'approvals/expired.txt');
    const url = linkFor(runId, 'dev-approver');
    const run = await waitForRun(stack, runId, 20_000);
    expect(run.status).toBe('EXPIRED');
    expect(await exists('approvals/expired.txt')).toBe(false);
    const types = await eventTypes(runId);
    expect(types).toContain('ApprovalReminderSent');
    expect(types).toContain('ApprovalExpired');
    expect(notifications(runId).some((entry) => entry.kind === 'approval-reminder')).toBe(true);
    const late = await post(url, { decision: 'approve' });
    expect(late.status).toBe(410);
    expect(late.html).toContain('expired');
  });

  it('escapes untrusted text on the link page', async () => {
    const runId = await parkedRun('prod', 'approvals/escape.txt', '<script>alert(1)</script> & friends');
    const html = await (await fetch(linkFor(runId, 'dev-approver'))).text();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends');
    await api(stack, 'POST', `/runs/${runId}/cancel`);
  });
});

describe('forged and non-canonical approval links', () => {
  const forge = (payload: Record<string, unknown>) =>
    `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${Buffer.alloc(32, 7).toString('base64url')}`;

  it('writes nothing for a flood of forged links naming a parked run or a finished one', async () => {
    const parked = await parkedRun('prod', 'approvals/flood.txt');
    const finished = (
      await api(stack, 'POST', '/runs', { body: { goal: 'finished', mode: 'PLAN', reasonForAccess: REASON, tasks: [{ action: 'noop', params: {} }] } })
    ).body.runId as string;
    expect((await waitForRun(stack, finished)).status).toBe('PLANNED');
    const before = { parked: await trailSize(parked), finished: await trailSize(finished) };
    const statuses: number[] = [];
    for (let i = 0; i < 25; i += 1) {
      for (const runId of [parked, finished]) {
        const token = forge({
          runId,
          approver: `<b>attacker ${i}</b>`,
          planDigest: 'a'.repeat(64),
          expiresAt: Date.now() + 60_000,
          nonce: `nonce-nonce-nonce-${i}`,
        });
        statuses.push((await post(`${stack.endpoints.api}/approvals/${token}`, { decision: 'approve' })).status);
        statuses.push((await fetch(`${stack.endpoints.api}/approvals/${token}`)).status);
      }
    }
    expect(new Set(statuses)).toEqual(new Set([403]));
    expect(await trailSize(parked)).toEqual(before.parked);
    expect(await trailSize(finished)).toEqual(before.finished);
    expect((await api(stack, 'GET', `/runs/${parked}`)).body.run.status).toBe('AWAITING_APPROVAL');
    await api(stack, 'POST', `/runs/${parked}/cancel`);
  });

  it('refuses a link spelled non-canonically (same bytes, other trailing bits), writing nothing; the canonical one still works', async () => {
    const runId = await parkedRun('prod', 'approvals/canonical.txt');
    const url = linkFor(runId, 'dev-approver');
    const [base, token] = url.split('/approvals/');
    const [body, mac] = token.split('.');
    // 32 MAC bytes are 43 characters: the last one carries 2 bits and 4 unused ones; flip an unused bit.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = `${mac.slice(0, -1)}${alphabet[alphabet.indexOf(mac.at(-1)!) ^ 1]}`;
    expect(Buffer.from(twin, 'base64url').equals(Buffer.from(mac, 'base64url'))).toBe(true);
    const before = await trailSize(runId);
    const refused = await post(`${base}/approvals/${body}.${twin}`, { decision: 'approve' });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('not a Maestro approval link');
    expect(await trailSize(runId)).toEqual(before);
    expect((await api(stack, 'GET', `/runs/${runId}`)).body.run.status).toBe('AWAITING_APPROVAL');
    expect((await post(url, { decision: 'approve' })).status).toBe(200);
    expect((await waitForRun(stack, runId)).status).toBe('SUCCEEDED');
  });
});
