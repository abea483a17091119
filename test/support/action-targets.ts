import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { DynamoItemStore } from '../../functions/adapters/dynamo-item-store.ts';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store.ts';
import type { Action, ActionContext } from '../../functions/core/actions/contract.ts';
import type { TaskPlan } from '../../functions/core/runs/model.ts';
import { ensureTargetTable } from '../../local/dynamodb/tables.ts';
import { startS3Emulator, type RunningS3Emulator } from '../../local/s3/s3-emulator.ts';

/**
 * The real targets an action test acts on: the S3 stand-in with a versioned bucket, an unversioned
 * one, and a table (key `id`) on the shared DynamoDB Local; the production adapters on top.
 */
export interface ActionTargets {
  s3: S3Client;
  db: DynamoDBDocumentClient;
  bucket: string;
  unversionedBucket: string;
  table: string;
  context(overrides?: Partial<ActionContext>): ActionContext;
  /** Every version and delete marker of a key, newest first, as `v:<id>` / `m:<id>`. */
  history(key: string, bucket?: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startActionTargets(label: string): Promise<ActionTargets> {
  const dataDir = await mkdtemp(join(tmpdir(), `maestro-${label}-`));
  const emulator: RunningS3Emulator = await startS3Emulator({ dataDir });
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const s3 = new S3Client({ endpoint: emulator.url, forcePathStyle: true, region: 'us-east-1', credentials, maxAttempts: 1 });
  const dynamodb = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials });
  const db = DynamoDBDocumentClient.from(dynamodb);
  const bucket = 'maestro-demo';
  const unversionedBucket = 'maestro-plain';
  const table = `${label}-${randomBytes(3).toString('hex')}-maestro-demo`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new CreateBucketCommand({ Bucket: unversionedBucket }));
  await ensureTargetTable(dynamodb, table);
  const objects = new S3ObjectStore(s3);
  const items = new DynamoItemStore(db);
  return {
    s3,
    db,
    bucket,
    unversionedBucket,
    table,
    context: (overrides = {}) => ({ objects, items, runId: 'run-1', taskIndex: 0, idempotencyKey: `key-${randomUUID()}`, attempt: 1, ...overrides }),
    async history(key, inBucket = bucket) {
      // One entry a page, so the order is S3's own (the SDK splits versions from delete markers).
      const labels: string[] = [];
      let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
      for (;;) {
        const page = await s3.send(new ListObjectVersionsCommand({ Bucket: inBucket, Prefix: key, MaxKeys: 1, ...markers }));
        const version = page.Versions?.[0];
        const marker = page.DeleteMarkers?.[0];
        const entry = version ?? marker;
        if (!entry || entry.Key !== key) return labels;
        labels.push(`${version ? 'v' : 'm'}:${entry.VersionId}`);
        if (!page.IsTruncated) return labels;
        markers = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
      }
    },
    async stop() {
      s3.destroy();
      dynamodb.destroy();
      await emulator.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A plan as the control plane keeps it: stored as JSON and read back. */
export async function planOf<P>(action: Action<P>, params: unknown, ctx: ActionContext): Promise<TaskPlan> {
  return JSON.parse(JSON.stringify(await action.plan(action.schema.parse(params), ctx))) as TaskPlan;
}

/** `target` with some methods replaced (a crash or a lost answer at one call); the others still reach it. */
export function overriding<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof T];
      const value = Reflect.get(object, property);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}
