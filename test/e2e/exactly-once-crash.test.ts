import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, UpdateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readDelivered } from '../../local/eventbridge/event-bridge-emulator.ts';
import { ROOT, spawnStack } from '../support/child-stack.ts';
import type { ChildStack } from '../support/child-stack.ts';
import { api, tempDataDir, waitForRun } from '../support/test-stack.ts';

const prefix = (label: string) => `${label}-${randomBytes(3).toString('hex')}-`;

const children: ChildProcess[] = [];
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

type Maestro = ChildStack;

/**
 * The embedded stack in a child process of its own (what `npm start` runs), on a data directory of
 * the test's own. DynamoDB is the shared DynamoDB Local with a table prefix of the test's own: as in
 * AWS, the managed database outlives the compute that crashes; everything else (S3 stand-in, Step
 * Functions stand-in and its durable executions, handlers, relay) dies with the process.
 */
function startMaestro(dataDir: string, tablePrefix: string, s3UnansweredWrites: string[] = []): Promise<Maestro> {
  const options = { dataDir, dynamodbUrl: inject('dynamodbUrl'), tablePrefix, demoTable: `${tablePrefix}maestro-demo`, apiPort: 0, s3UnansweredWrites };
  const script = `import { startEmbeddedStack } from ${JSON.stringify(join(ROOT, 'local/stack.ts'))};
    await startEmbeddedStack(${JSON.stringify(options)});
    console.log('Ctrl-C to stop');`;
  return spawnStack({ args: ['--input-type=module', '-e', script], env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' }, dataDir, children });
}

async function kill(maestro: Maestro): Promise<void> {
  if (maestro.child.exitCode === null) {
    const exited = new Promise((done) => maestro.child.once('exit', done));
    maestro.child.kill('SIGKILL');
    await exited;
  }
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

async function waitForTask(maestro: Maestro, runId: string, index: number, status: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await api(maestro, 'GET', `/runs/${runId}`);
    if (body.run.tasks[index].status === status) return;
    if (Date.now() > deadline) throw new Error(`task ${index} of ${runId} never became ${status} (is ${body.run.tasks[index].status})`);
    await sleep(20);
  }
}

async function s3VersionsOf(maestro: Maestro, bucket: string, key: string) {
  const s3 = new S3Client({ endpoint: maestro.endpoints.s3, region: 'us-east-1', credentials, forcePathStyle: true });
  try {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    return (listed.Versions ?? []).filter((version) => version.Key === key);
  } finally {
    s3.destroy();
  }
}

/** Every write (INSERT or MODIFY) of one item, read from the target table's own stream: a count of effects, not of log lines. */
async function itemWrites(maestro: Maestro, table: string, id: string): Promise<number> {
  const dynamodb = new DynamoDBClient({ endpoint: maestro.endpoints.dynamodb, region: 'us-east-1', credentials });
  const streams = new DynamoDBStreamsClient({ endpoint: maestro.endpoints.dynamodb, region: 'us-east-1', credentials });
  try {
    const streamArn = (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!.LatestStreamArn!;
    const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ?? [];
    let writes = 0;
    for (const shard of shards) {
      let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' })))
        .ShardIterator;
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        writes += (page.Records ?? []).filter((record) => record.eventName !== 'REMOVE' && record.dynamodb?.Keys?.id?.S === id).length;
        if ((page.Records ?? []).length === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    return writes;
  } finally {
    dynamodb.destroy();
    streams.destroy();
  }
}

async function enableStream(maestro: Maestro, table: string): Promise<void> {
  const dynamodb = new DynamoDBClient({ endpoint: maestro.endpoints.dynamodb, region: 'us-east-1', credentials });
  try {
    await dynamodb.send(new UpdateTableCommand({ TableName: table, StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } }));
  } finally {
    dynamodb.destroy();
  }
}

const countEvents = (events: { type: string; taskIndex?: number }[], type: string, taskIndex?: number) =>
  events.filter((event) => event.type === type && (taskIndex === undefined || event.taskIndex === taskIndex)).length;

describe('SIGKILL at any point of a run: every side effect exactly once', () => {
  it('killed before any write, between a write and its record, and mid-apply between writes: one version per object, one write of the item', async () => {
    const dataDir = tempDataDir('exactly-once-crash');
    const tables = prefix('exactly-once-crash');
    const demoTable = `${tables}maestro-demo`;
    let maestro = await startMaestro(dataDir, tables);
    await enableStream(maestro, demoTable);
    const created = await api(maestro, 'POST', '/runs', {
      body: {
        goal: 'survive three crashes',
        mode: 'APPLY',
        reasonForAccess: 'exactly-once test',
        tasks: [
          { action: 'noop', params: { sleepMs: 600 } },
          { action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'exactly-once/a.txt', body: 'A\n' } },
          { action: 'noop', params: { sleepMs: 600 } },
          { action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'exactly-once/b.txt', body: 'B\n' } },
          { action: 'dynamodb.put-item', params: { table: demoTable, item: { id: 'exactly-once-c', value: 'C' } } },
        ],
      },
    });
    expect(created.status).toBe(201);
    const runId: string = created.body.runId;

    // 1. Before apply: the first task sleeps; nothing has been written yet.
    await waitForTask(maestro, runId, 0, 'APPLYING');
    expect(await s3VersionsOf(maestro, 'maestro-demo', 'exactly-once/a.txt')).toHaveLength(0);
    await kill(maestro);

    // 2. Between the write and its record: killed the instant the S3 stand-in publishes A's version
    //    on disk. The stand-in stores that write but never answers it, so the TaskApplied commit cannot
    //    have been sent however fast the control plane is or however slow the machine.
    maestro = await startMaestro(dataDir, tables, ['maestro-demo/exactly-once/a.txt']);
    const objectsDir = join(dataDir, 's3', 'buckets', 'maestro-demo', 'objects');
    await new Promise<void>((done) => {
      const watcher = watch(objectsDir, (_event, file) => {
        if (!file?.endsWith('.json')) return;
        maestro.child.kill('SIGKILL');
        watcher.close();
        done();
      });
    });
    await new Promise((done) => (maestro.child.exitCode === null ? maestro.child.once('exit', done) : done(undefined)));

    // 3. Mid-apply: A is written and recorded, B is not written yet.
    maestro = await startMaestro(dataDir, tables);
    await waitForTask(maestro, runId, 2, 'APPLYING');
    expect(await s3VersionsOf(maestro, 'maestro-demo', 'exactly-once/a.txt')).toHaveLength(1);
    expect(await s3VersionsOf(maestro, 'maestro-demo', 'exactly-once/b.txt')).toHaveLength(0);
    await kill(maestro);

    maestro = await startMaestro(dataDir, tables);
    const run = await waitForRun(maestro, runId, 60_000);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.map((task: { status: string }) => task.status)).toEqual(['VERIFIED', 'VERIFIED', 'VERIFIED', 'VERIFIED', 'VERIFIED']);

    // The effects, counted where they live.
    expect(await s3VersionsOf(maestro, 'maestro-demo', 'exactly-once/a.txt')).toHaveLength(1);
    expect(await s3VersionsOf(maestro, 'maestro-demo', 'exactly-once/b.txt')).toHaveLength(1);
    expect(await itemWrites(maestro, demoTable, 'exactly-once-c')).toBe(1);

    // The journal agrees: each interrupted task was claimed twice (task 1 after its write landed,
    // so its replay recognised its own object), every task recorded applied once, the run admitted
    // and planned once.
    const events: { type: string; taskIndex?: number; seq: number }[] = (await api(maestro, 'GET', `/runs/${runId}/events`)).body.events;
    expect([0, 1, 2, 3, 4].map((index) => countEvents(events, 'TaskApplying', index))).toEqual([2, 2, 2, 1, 1]);
    expect([0, 1, 2, 3, 4].map((index) => countEvents(events, 'TaskApplied', index))).toEqual([1, 1, 1, 1, 1]);
    expect(countEvents(events, 'RunAdmitted')).toBe(1);
    expect(countEvents(events, 'RunPlanned')).toBe(1);
    expect(events.at(-1)?.type).toBe('RunSucceeded');

    // The outbox survived the crashes too: every event announced at least once (a consumer deduping by id sees each once).
    const deadline = Date.now() + 15_000;
    const expected = events.map((event) => `${runId}#${event.seq}`);
    let announced = new Set<string>();
    while (!expected.every((id) => announced.has(id)) && Date.now() < deadline) {
      await sleep(100);
      announced = new Set(readDelivered(join(dataDir, 'eventbridge.jsonl')).map((event) => (event.Detail as { id: string }).id));
    }
    expect(expected.filter((id) => !announced.has(id))).toEqual([]);
    await kill(maestro);
  }, 150_000);
});
