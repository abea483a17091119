import { createHash } from 'node:crypto';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as verifyCli } from '../../local/cli/dr-verify.ts';
import { DynamoDrRepository } from '../../functions/adapters/dynamo-dr-repository.ts';
import { resolveTable } from '../../functions/core/dr/pointer.ts';
import { findTarget } from '../../functions/core/dr/targets.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, tempDataDir, waitForRun } from '../support/test-stack.ts';

const keyOfLocation = (location: string) => location.replace('s3://maestro-artifacts/', '');
import { backup, drClients, readManifest, readVault, restore, seedDemo, verifiesWithPublicKey, waitForDrJob } from '../support/dr.ts';
import { lambdaContext } from '../../local/lambda-context.ts';

let stack: EmbeddedStack;
let clients: ReturnType<typeof drClients>;
let repo: DynamoDrRepository;

beforeAll(async () => {
  stack = await startTestStack('dr');
  clients = drClients();
  repo = new DynamoDrRepository({ client: clients.docs, tableName: stack.stateTable });
  await seedDemo(stack, clients.docs, clients.s3, 60);
});
afterAll(async () => {
  await stack?.stop();
});

const tableExists = async (table: string) =>
  new DynamoDBClient({}).send(new DescribeTableCommand({ TableName: table })).then(
    () => true,
    () => false,
  );

describe('DR backup', () => {
  let snapshot: any;

  it('quiesces, snapshots into hashed parts, signs the manifest with KMS and stores it in the versioned vault', async () => {
    snapshot = await backup(stack);
    expect(snapshot).toMatchObject({ kind: 'BACKUP', target: 'demo', state: 'COMPLETE', progress: 1, verified: true });
    expect(snapshot.steps.map((s: any) => `${s.name}:${s.state}`)).toEqual([
      'Quiesce:SUCCEEDED',
      'Snapshot:SUCCEEDED',
      'Unquiesce:SUCCEEDED',
      'SignManifest:SUCCEEDED',
    ]);
    expect(snapshot.result).toMatchObject({ snapshotId: snapshot.id, records: 63, location: `s3://maestro-artifacts/dr/demo/${snapshot.id}/manifest.json` });
    expect(snapshot.result.manifestVersionId).toEqual(expect.any(String));
    expect(await repo.listQuiesceFlags()).toEqual([]);
  });

  it('the signature verifies with the public key alone, and every part hashes to the manifest', async () => {
    const signed = await readManifest(clients.s3, snapshot.result.location, snapshot.result.manifestVersionId);
    expect(signed.sha256).toBe(snapshot.result.sha256);
    expect(signed.signature.algorithm).toBe('ECDSA_SHA_256');
    expect(await verifiesWithPublicKey(clients.kms, signed)).toBe(true);
    // A changed manifest no longer verifies.
    expect(await verifiesWithPublicKey(clients.kms, { ...signed, manifest: { ...signed.manifest, target: 'other' } }).catch(() => false)).toBe(false);
    expect(signed.manifest.sources.map((s) => [s.kind, s.records])).toEqual([
      ['table', 60],
      ['prefix', 3],
    ]);
    for (const part of signed.manifest.parts) {
      const bytes = await readVault(clients.s3, part.key);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(part.sha256);
      expect(bytes.length).toBe(part.bytes);
    }
  });

  it('dr:verify checks a downloaded backup offline with the public key alone', async () => {
    const dir = tempDataDir('drverify');
    const signed = await readManifest(clients.s3, snapshot.result.location);
    writeFileSync(join(dir, 'manifest.json'), await readVault(clients.s3, keyOfLocation(snapshot.result.location)));
    mkdirSync(join(dir, 'parts'));
    for (const part of signed.manifest.parts)
      writeFileSync(join(dir, part.key.slice(signed.manifest.vault.prefix.length)), await readVault(clients.s3, part.key));
    const publicKey = await clients.kms.send(new GetPublicKeyCommand({ KeyId: 'alias/maestro-manifest-signing' }));
    writeFileSync(join(dir, 'key.der'), Buffer.from(publicKey.PublicKey!));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await verifyCli([join(dir, 'manifest.json'), '--public-key', join(dir, 'key.der')])).toBe(0);
      const first = join(dir, signed.manifest.parts[0].key.slice(signed.manifest.vault.prefix.length));
      writeFileSync(first, Buffer.concat([readFileSync(first), Buffer.from('x')]));
      expect(await verifyCli([join(dir, 'manifest.json'), '--public-key', join(dir, 'key.der')])).toBe(1);
      expect(log.mock.calls.flat().join('\n')).toMatch(/FAIL part parts\/000000/);
    } finally {
      log.mockRestore();
    }
  });

  it('reports progress events per step, also as server-sent events', async () => {
    const response = await fetch(`${stack.endpoints.api}/dr/status/${snapshot.id}/events`, { headers: { authorization: 'Bearer dev-approver' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    const types = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(types).toEqual([
      'BackupRequested',
      'QuiesceStarted',
      'QuiesceSucceeded',
      'SnapshotStarted',
      'SnapshotSucceeded',
      'UnquiesceSucceeded',
      'SignManifestStarted',
      'SignManifestSucceeded',
      'JobComplete',
      'end',
    ]);
    expect(text).toMatch(/^id: 1$/m);
    // Resuming after an event id returns only what followed.
    const resumed = await fetch(`${stack.endpoints.api}/dr/status/${snapshot.id}/events`, {
      headers: { authorization: 'Bearer dev-approver', 'last-event-id': '8' },
    });
    expect([...(await resumed.text()).matchAll(/^event: (.+)$/gm)].map((m) => m[1])).toEqual(['JobComplete', 'end']);
  });

  it('a dry-run verifies and reports what it would write, writing nothing', async () => {
    const job = await restore(stack, { snapshotId: snapshot.id, dryRun: true });
    expect(job).toMatchObject({ kind: 'RESTORE', state: 'COMPLETE', verified: true, dryRun: true });
    expect(job.report).toMatchObject({ records: 63, parts: expect.any(Number), manifestSha256: snapshot.result.sha256 });
    expect(job.report.wouldWrite).toEqual([
      { source: `table:${stack.demoTable}`, records: 60, bytes: expect.any(Number) },
      { source: `prefix:${stack.demoBucket}/`, records: 3, bytes: expect.any(Number) },
    ]);
    expect(job.copy).toBeUndefined();
    expect(await repo.getPointer('demo')).toBeUndefined();
  });

  it('restores into a new copy, passes the smoke tests, flips the pointer; readers see the restored data; rollback flips back', async () => {
    // Change live data after the backup: the restore must bring back the backed-up state.
    const run = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'change after backup',
        mode: 'APPLY',
        reasonForAccess: 'INC-42 disaster recovery rehearsal',
        tasks: [{ action: 'dynamodb.put-item', params: { table: stack.demoTable, item: { id: 'item-0000', tag: 'changed' } } }],
      },
    });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect((await waitForRun(stack, run.body.runId)).status).toBe('SUCCEEDED');

    const job = await restore(stack, { manifestVersionId: snapshot.result.manifestVersionId });
    expect(job.state, JSON.stringify(job.error)).toBe('COMPLETE');
    expect(job.steps.map((s: any) => `${s.name}:${s.state}`)).toEqual([
      'Stage:SUCCEEDED',
      'Apply:SUCCEEDED',
      'Validate:SUCCEEDED',
      'AwaitApproval:SUCCEEDED',
      'FlipPointer:SUCCEEDED',
    ]);
    expect(job.smokeTests.length).toBeGreaterThanOrEqual(4);
    expect(job.smokeTests.every((t: any) => t.passed)).toBe(true);

    const pointer = await repo.getPointer('demo');
    expect(pointer).toMatchObject({ version: 1, live: { copyId: job.copy.copyId }, previous: { copyId: 'origin' } });
    const target = findTarget(stack.deps.dr.targets, 'demo');
    const liveTable = resolveTable(target, pointer, stack.demoTable);
    expect(liveTable).not.toBe(stack.demoTable);
    const restored = await clients.docs.send(new GetCommand({ TableName: liveTable, Key: { id: 'item-0000' } }));
    expect(restored.Item).toMatchObject({ tag: 'v1', n: 0, tags: new Set(['a', 'b']) });
    expect((await clients.docs.send(new ScanCommand({ TableName: liveTable, Select: 'COUNT' }))).Count).toBe(60);
    const objects = await clients.s3.send(new ListObjectsV2Command({ Bucket: stack.demoBucket, Prefix: `.maestro-dr/${job.copy.copyId}/` }));
    expect(objects.KeyCount).toBe(3);
    // The old copy is kept, untouched.
    const old = await clients.docs.send(new GetCommand({ TableName: stack.demoTable, Key: { id: 'item-0000' } }));
    expect(old.Item?.tag).toBe('changed');

    const target2 = await api(stack, 'GET', '/dr/targets/demo', { token: 'dev-approver' });
    expect(target2.body).toMatchObject({ live: { copyId: job.copy.copyId }, pointerVersion: 1 });

    const rollback = await api(stack, 'POST', `/dr/restore/${job.id}/rollback`, { body: {} });
    expect(rollback.status, JSON.stringify(rollback.body)).toBe(200);
    expect(rollback.body).toMatchObject({ state: 'ROLLED_BACK', live: 'origin', pointerVersion: 2 });
    expect(resolveTable(target, await repo.getPointer('demo'), stack.demoTable)).toBe(stack.demoTable);
    const again = await api(stack, 'POST', `/dr/restore/${job.id}/rollback`, { body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('DrInvalidTransition');
  });

  it('a restore test restores into an isolated copy, records signed evidence, cleans up and never touches the pointer', async () => {
    const before = await repo.getPointer('demo');
    const job = await restore(stack, { snapshotId: snapshot.id, mode: 'TEST' });
    expect(job.state, JSON.stringify(job.error)).toBe('COMPLETE');
    expect(job.steps.map((s: any) => s.name)).toEqual(['Stage', 'Apply', 'Validate', 'RecordEvidence', 'DiscardCopy']);
    expect(job.result.evidence).toBe(`s3://maestro-artifacts/dr/demo/${snapshot.id}/restore-tests/${job.id}.json`);
    const evidence = JSON.parse((await readVault(clients.s3, job.result.evidence.replace('s3://maestro-artifacts/', ''))).toString());
    expect(evidence.evidence).toMatchObject({ jobId: job.id, passed: true, manifestSha256: snapshot.result.sha256 });
    expect(await tableExists(Object.values(job.copy.tables)[0] as string)).toBe(false);
    expect(await repo.getPointer('demo')).toEqual(before);
  });
});

describe('schedules', () => {
  it('a scheduled restore test takes the newest complete backup; a scheduled backup runs like a requested one', async () => {
    const handler = (await import('../../functions/handlers/dr/scheduled.ts')).createHandler(stack.deps);
    const test = (await handler({ kind: 'restore-test', target: 'demo' }, lambdaContext('maestro-dr-scheduled'))) as { jobId: string };
    const job = await waitForDrJob(stack, test.jobId);
    expect(job).toMatchObject({ state: 'COMPLETE', mode: 'TEST', requestedBy: 'scheduler' });
    const latest = await repo.latestCompleteBackup('demo');
    expect(job.snapshotId).toBe(latest!.id);
    const scheduledBackup = (await handler({ kind: 'backup', target: 'demo' }, lambdaContext('maestro-dr-scheduled'))) as { jobId: string };
    expect(await waitForDrJob(stack, scheduledBackup.jobId)).toMatchObject({ kind: 'BACKUP', state: 'COMPLETE', requestedBy: 'scheduler' });
    expect((await repo.latestCompleteBackup('demo'))!.id).toBe(scheduledBackup.jobId);
  });
});

describe('quiesce', () => {
  it('refuses writers with TargetQuiesced while the flag is set, and the flag lifts after the backup', async () => {
    await repo.quiesce({
      target: 'demo',
      jobId: 'manual',
      tables: [stack.demoTable],
      prefixes: [{ bucket: stack.demoBucket, prefix: '' }],
      until: new Date(Date.now() + 60_000).toISOString(),
    });
    const blocked = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'write while quiesced',
        mode: 'APPLY',
        reasonForAccess: 'INC-42 disaster recovery rehearsal',
        tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'notes/blocked.txt', body: 'x' } }],
      },
    });
    expect(blocked.status, JSON.stringify(blocked.body)).toBe(201);
    const run = await waitForRun(stack, blocked.body.runId);
    expect(run.status).not.toBe('SUCCEEDED');
    const events = await api(stack, 'GET', `/runs/${run.id}/events`);
    expect(JSON.stringify(events.body)).toContain('TargetQuiesced');

    // Another job's flag holds the target: a backup is refused (FAILED) and leaves the flag alone.
    const refused = await backup(stack);
    expect(refused.state).toBe('FAILED');
    expect(refused.error.name).toBe('DrTargetBusy');
    expect((await repo.listQuiesceFlags()).map((f) => f.jobId)).toEqual(['manual']);
    await repo.unquiesce('demo', 'manual');

    const dynamoBlocked = await backup(stack);
    expect(dynamoBlocked.state).toBe('COMPLETE');
    expect(await repo.listQuiesceFlags()).toEqual([]);
    const after = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'write after backup',
        mode: 'APPLY',
        reasonForAccess: 'INC-42 disaster recovery rehearsal',
        tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'notes/after.txt', body: 'x' } }],
      },
    });
    expect((await waitForRun(stack, after.body.runId)).status).toBe('SUCCEEDED');
  });
});

describe('DR API guards', () => {
  it('names the bad field, needs the operator role to act, and any role to read', async () => {
    const unknown = await api(stack, 'POST', '/dr/backup', { body: { target: 'nope', reason: 'x' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'DrTargetNotFound', field: 'target' });
    const noReason = await api(stack, 'POST', '/dr/backup', { body: { target: 'demo' } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.field).toBe('reason');
    const both = await api(stack, 'POST', '/dr/restore', { body: { target: 'demo', reason: 'x', snapshotId: 'a', manifestVersionId: 'b' } });
    expect(both.status).toBe(400);
    expect(both.body.error.field).toBe('snapshotId');
    const approver = await api(stack, 'POST', '/dr/backup', { token: 'dev-approver', body: { target: 'demo', reason: 'x' } });
    expect(approver.status).toBe(403);
    const missing = await api(stack, 'GET', '/dr/status/does-not-exist', { token: 'dev-approver' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('DrJobNotFound');
  });
});
