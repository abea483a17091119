import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AuditVault } from '../../functions/adapters/audit-vault.ts';
import { DynamoRunRepository } from '../../functions/adapters/dynamo-run-repository.ts';
import { KmsSigner } from '../../functions/adapters/kms-signer.ts';
import type { AuditSealing } from '../../functions/core/audit/ports.ts';
import { checkpointRunHead, sealRunHead } from '../../functions/core/audit/seal-run-head.ts';
import { verifyRunAudit } from '../../functions/core/audit/verify-run-audit.ts';
import { TransientError } from '../../functions/core/errors.ts';
import { GENESIS_HASH, hashEvent } from '../../functions/core/runs/journal.ts';
import { ensureStateTable } from '../../local/dynamodb/tables.ts';
import { MAESTRO_KMS_KEYS, ensureKmsKey, startKmsEmulator } from '../../local/kms/kms-emulator.ts';
import type { RunningKmsEmulator } from '../../local/kms/kms-emulator.ts';
import { startS3Emulator } from '../../local/s3/s3-emulator.ts';
import type { RunningS3Emulator } from '../../local/s3/s3-emulator.ts';
import { tempDataDir } from '../support/test-stack.ts';

// Head signing against the real stand-ins (DynamoDB Local, the S3 and KMS endpoints), including a KMS
// that goes away mid-run: the failure is recorded, never changes the run, and a retry signs.
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';
const dynamodb = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region, credentials });
const kmsDir = tempDataDir('seal-kms');
let kms: RunningKmsEmulator | undefined;
let s3: RunningS3Emulator;
const bucket = 'maestro-artifacts';

const sealingAt = (kmsUrl: string, keyId: string = MAESTRO_KMS_KEYS.manifestSigning.alias): AuditSealing => ({
  signer: new KmsSigner({ client: new KMSClient({ endpoint: kmsUrl, region, credentials, maxAttempts: 1 }), keyId }),
  heads: new AuditVault({ client: new S3Client({ endpoint: s3.url, region, credentials, forcePathStyle: true }), bucket }),
});
const clock = () => new Date();

describe('sealRunHead', () => {
  const table = `seal-${randomBytes(3).toString('hex')}-maestro-state`;
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const repository = new DynamoRunRepository({ client: documents, tableName: table });

  beforeAll(async () => {
    await ensureStateTable(dynamodb, table);
    s3 = await startS3Emulator({ dataDir: tempDataDir('seal-s3') });
    kms = await startKmsEmulator({ dataDir: kmsDir });
    await ensureKmsKey(new KMSClient({ endpoint: kms.url, region, credentials }), MAESTRO_KMS_KEYS.manifestSigning);
    const client = new S3Client({ endpoint: s3.url, region, credentials, forcePathStyle: true });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });
  afterAll(async () => {
    await kms?.stop();
    await s3?.stop();
  });

  const created = async () => {
    const id = randomUUID();
    const now = new Date().toISOString();
    await repository.create({
      run: {
        id,
        goal: 'seal',
        mode: 'APPLY',
        environment: 'dev',
        status: 'PENDING',
        autonomy: 1,
        requestedBy: 'test',
        correlationId: 'seal',
        createdAt: now,
        updatedAt: now,
        taskCount: 0,
        eventSeq: 0,
        lastEventHash: GENESIS_HASH,
      },
      tasks: [],
      events: [{ type: 'RunRequested', message: 'requested' }],
    });
    return id;
  };

  it('signs a finished run once, and leaves an unfinished one alone', async () => {
    const id = await created();
    const sealing = sealingAt(kms!.url);
    expect(await sealRunHead({ runs: repository, sealing, clock }, id)).toBe('not-finished');
    await repository.commit(id, { run: { status: 'SUCCEEDED', finishedAt: new Date().toISOString() }, events: [{ type: 'RunSucceeded', message: 'done' }] });
    expect(await sealRunHead({ runs: repository, sealing, clock }, id)).toBe('signed');
    expect(await sealRunHead({ runs: repository, sealing, clock }, id)).toBe('already-signed');
    expect(await verifyRunAudit({ runs: repository, sealing }, id)).toMatchObject({ ok: true, eventCount: 2, signedHeadMatches: true });
  });

  it('records a transient failure and rethrows it for the workflow to retry; the retry signs the longer chain', async () => {
    const id = await created();
    await repository.commit(id, { run: { status: 'SUCCEEDED', finishedAt: new Date().toISOString() }, events: [{ type: 'RunSucceeded', message: 'done' }] });
    const gone = kms!.url;
    await kms!.stop();
    kms = undefined;
    await expect(sealRunHead({ runs: repository, sealing: sealingAt(gone), clock }, id)).rejects.toBeInstanceOf(TransientError);
    const run = await repository.get(id);
    expect(run).toMatchObject({ status: 'SUCCEEDED', eventSeq: 3 });
    const events = (await repository.listEvents(id)).items;
    expect(events.at(-1)).toMatchObject({ type: 'AuditHeadSigningFailed', level: 'WARN' });

    kms = await startKmsEmulator({ dataDir: kmsDir }); // the key survives the restart
    const sealing = sealingAt(kms.url);
    expect(await sealRunHead({ runs: repository, sealing, clock }, id)).toBe('signed');
    expect(await verifyRunAudit({ runs: repository, sealing }, id)).toMatchObject({
      ok: true,
      eventCount: 3,
      signedHeadMatches: true,
      signedHead: { eventCount: 3 },
    });
  });

  it('records a permanent failure (no such key) and carries on without a signed head', async () => {
    const id = await created();
    await repository.commit(id, { run: { status: 'SUCCEEDED', finishedAt: new Date().toISOString() }, events: [{ type: 'RunSucceeded', message: 'done' }] });
    const sealing = sealingAt(kms!.url, 'alias/no-such-key');
    expect(await sealRunHead({ runs: repository, sealing, clock }, id)).toBe('failed');
    const events = (await repository.listEvents(id)).items;
    expect(events.at(-1)).toMatchObject({ type: 'AuditHeadSigningFailed', payload: { error: { name: 'NotFoundException' } } });
    // Without any signed head no event is anchored: verify says so instead of passing.
    const verified = await verifyRunAudit({ runs: repository, sealing }, id);
    expect(verified).toMatchObject({ ok: false, signedHeadMatches: null, anchors: [], unanchored: { fromSeq: 1, toSeq: 3 } });
    expect(verified.note).toContain('the run finished but has no final signed head (yet)');
  });

  it('signs checkpoints while a run is in flight, each covering the chain so far, and refuses to sign over a rewritten chain', async () => {
    const id = await created();
    const sealing = sealingAt(kms!.url);
    expect(await checkpointRunHead({ runs: repository, sealing, clock }, id)).toBe('signed');
    expect(await checkpointRunHead({ runs: repository, sealing, clock }, id)).toBe('already-signed');
    await repository.commit(id, {
      run: { status: 'AWAITING_APPROVAL' },
      events: [{ type: 'ApprovalRequested', message: 'approval requested from dev-approver' }],
    });
    expect(await verifyRunAudit({ runs: repository, sealing }, id)).toMatchObject({ ok: false, unanchored: { fromSeq: 2, toSeq: 2 } });
    expect(await checkpointRunHead({ runs: repository, sealing, clock }, id)).toBe('signed');
    const parked = await verifyRunAudit({ runs: repository, sealing }, id);
    expect(parked).toMatchObject({
      ok: true,
      statusMatches: true,
      anchors: [
        { kind: 'checkpoint', fromSeq: 1, toSeq: 1, status: 'PENDING' },
        { kind: 'checkpoint', fromSeq: 2, toSeq: 2, status: 'AWAITING_APPROVAL' },
      ],
    });

    // Rewrite the approval event consistently (its hash and the run's head recomputed).
    const [first, second] = (await repository.listEvents(id)).items;
    const { hash: _old, ...rest } = { ...second, message: 'approval requested from mallory', prevHash: first.hash };
    const hash = hashEvent(rest);
    await documents.send(new PutCommand({ TableName: table, Item: { pk: `RUN#${id}`, sk: 'EVENT#0000000002', entity: 'Event', ...rest, hash } }));
    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: `RUN#${id}`, sk: 'RUN' },
        UpdateExpression: 'SET lastEventHash = :h',
        ExpressionAttributeValues: { ':h': hash },
      }),
    );
    expect(await verifyRunAudit({ runs: repository, sealing }, id)).toMatchObject({ ok: false, firstBrokenSeq: 2 });
    await repository.commit(id, { run: { status: 'SUCCEEDED', finishedAt: new Date().toISOString() }, events: [{ type: 'RunSucceeded', message: 'done' }] });
    // Neither a checkpoint nor the final seal anchors the forgery.
    expect(await checkpointRunHead({ runs: repository, sealing, clock }, id)).toBe('refused');
    expect(await sealRunHead({ runs: repository, sealing, clock }, id)).toBe('refused');
    expect(await verifyRunAudit({ runs: repository, sealing }, id)).toMatchObject({ ok: false, signedHeadMatches: null, firstBrokenSeq: 2 });
  });
});
