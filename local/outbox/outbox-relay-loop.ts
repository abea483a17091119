import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamsClientConfig, _Record as StreamRecord, Shard } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export interface OutboxRelayLoopOptions {
  /** The table whose stream is read (the state table). */
  tableName: string;
  /** Where the read position is kept across restarts (`<file>`, JSON). */
  checkpointFile: string;
  /** The relay: the same handler the Lambda event source mapping calls in AWS. */
  // biome-ignore lint/suspicious/noConfusingVoidType: the type of @types/aws-lambda's DynamoDBStreamHandler result, which the relay handler is
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  /** `CHECKPOINT` carries on after the last batch handled (TRIM_HORIZON the first time); `TRIM_HORIZON` re-reads the whole stream. @default 'CHECKPOINT' */
  startFrom?: 'CHECKPOINT' | 'TRIM_HORIZON';
  /** Records per batch, as the event source mapping's BatchSize. @default 100 */
  batchSize?: number;
  /** Sleep between polls when the stream is idle (doubling up to 8×). @default 100 */
  idlePollMs?: number;
  /** Called when a batch fails (it is retried from the same position). */
  onError?: (error: unknown) => void;
  /** Region, endpoint and credentials of the DynamoDB and Streams clients (the stack's config.aws). @default the SDK's own */
  clientOptions?: { dynamodb?: DynamoDBClientConfig; streams?: DynamoDBStreamsClientConfig };
}

export interface RunningOutboxRelay {
  /** Batches handed to the handler, records read, failed attempts. */
  readonly stats: { batches: number; records: number; failures: number };
  stop(): Promise<void>;
}

interface Checkpoint {
  streamArn: string;
  /** Per shard: the last sequence number handled, and whether the shard is closed and read to its end. */
  shards: Record<string, { sequenceNumber?: string; closed?: boolean }>;
}

/**
 * The embedded stack's stand-in for a Lambda event source mapping on the state table's stream: reads
 * DynamoDB Local's Streams with the real client, shard by shard (parents before children), hands
 * each batch to the relay handler in the Lambda event shape, and checkpoints after each batch it
 * handled. A failed batch is retried from the same position, so delivery is at least once.
 */
export async function startOutboxRelayLoop(options: OutboxRelayLoopOptions): Promise<RunningOutboxRelay> {
  const dynamodb = new DynamoDBClient(options.clientOptions?.dynamodb ?? {});
  const streams = new DynamoDBStreamsClient(options.clientOptions?.streams ?? {});
  const checkpointFile = resolve(options.checkpointFile);
  mkdirSync(dirname(checkpointFile), { recursive: true });
  const batchSize = options.batchSize ?? 100;
  const idlePollMs = options.idlePollMs ?? 100;
  const stats = { batches: 0, records: 0, failures: 0 };

  const table = await dynamodb.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream: the outbox relay needs one`);
  const saved = options.startFrom === 'TRIM_HORIZON' ? undefined : readCheckpoint(checkpointFile);
  const checkpoint: Checkpoint = saved?.streamArn === streamArn ? saved : { streamArn, shards: {} };
  const iterators = new Map<string, string>();

  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((done) => {
      const timer = setTimeout(done, ms);
      wake = () => {
        clearTimeout(timer);
        done();
      };
    });

  const listShards = async (): Promise<Shard[]> => {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const page = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      shards.push(...(page.StreamDescription?.Shards ?? []));
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  };

  // The shard list is read again only when a shard was read to its end (its children appear then),
  // or after SHARD_LIST_MAX_AGE_MS: not one DescribeStream per poll.
  let shardList: { shards: Shard[]; readAt: number } | undefined;
  const currentShards = async (): Promise<Shard[]> => {
    if (!shardList || Date.now() - shardList.readAt > SHARD_LIST_MAX_AGE_MS) shardList = { shards: await listShards(), readAt: Date.now() };
    return shardList.shards;
  };
  const markClosed = (shardId: string) => {
    checkpoint.shards[shardId] = { ...checkpoint.shards[shardId], closed: true };
    shardList = undefined;
  };

  const iteratorFor = async (shardId: string): Promise<string | undefined> => {
    const known = iterators.get(shardId);
    if (known) return known;
    const position = checkpoint.shards[shardId]?.sequenceNumber;
    const result = await streams.send(
      new GetShardIteratorCommand(
        position
          ? { StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position }
          : { StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' },
      ),
    );
    return result.ShardIterator;
  };

  /** Reads one batch of a shard and hands it over; returns how many records it handled. */
  const pollShard = async (shardId: string): Promise<number> => {
    const iterator = await iteratorFor(shardId);
    if (!iterator) {
      markClosed(shardId);
      return 0;
    }
    let page;
    try {
      page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }));
    } catch (error) {
      if (error instanceof Error && (error.name === 'ExpiredIteratorException' || error.name === 'TrimmedDataAccessException')) {
        iterators.delete(shardId);
        return 0;
      }
      throw error;
    }
    const records = page.Records ?? [];
    if (records.length > 0) {
      stats.batches += 1;
      stats.records += records.length;
      try {
        const response = await options.handler({ Records: records.map((record) => toLambdaRecord(record, streamArn)) });
        // AWS retries from a reported failure and, after its retries, sends the batch to the on-failure
        // destination. Locally the relay reports nothing but undecodable records: they are logged, not retried.
        if (response && response.batchItemFailures.length > 0) {
          options.onError?.(
            new Error(`the relay could not read stream record(s) ${response.batchItemFailures.map((failure) => failure.itemIdentifier).join(', ')}`),
          );
        }
      } catch (error) {
        // Read the batch again from the last checkpoint on the next poll.
        iterators.delete(shardId);
        throw error;
      }
      checkpoint.shards[shardId] = { sequenceNumber: records.at(-1)?.dynamodb?.SequenceNumber };
    }
    if (page.NextShardIterator) iterators.set(shardId, page.NextShardIterator);
    else {
      iterators.delete(shardId);
      markClosed(shardId);
    }
    if (records.length > 0 || !page.NextShardIterator) await writeCheckpoint(checkpointFile, checkpoint);
    return records.length;
  };

  const loop = (async () => {
    let idle = 0;
    while (!stopped) {
      let handled = 0;
      try {
        const shards = await currentShards();
        const open = new Set(shards.filter((shard) => !checkpoint.shards[shard.ShardId!]?.closed).map((shard) => shard.ShardId!));
        for (const shard of shards) {
          if (stopped) break;
          const shardId = shard.ShardId!;
          // A child shard waits until its parent is read to the end (per-item order is kept).
          if (!open.has(shardId) || (shard.ParentShardId && open.has(shard.ParentShardId))) continue;
          handled += await pollShard(shardId);
        }
      } catch (error) {
        shardList = undefined;
        stats.failures += 1;
        options.onError?.(error);
      }
      idle = handled > 0 ? 0 : Math.min(idle + 1, 4);
      if (!stopped && handled === 0) await sleep(idlePollMs * 2 ** Math.max(idle - 1, 0));
    }
  })();

  return {
    stats,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      dynamodb.destroy();
      streams.destroy();
    },
  };
}

/** How long a read shard list is used before it is read again (a shard read to its end reads it at once). */
const SHARD_LIST_MAX_AGE_MS = 5_000;

/** A stream record in the shape a Lambda event source mapping delivers it. */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const data = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: data.ApproximateCreationDateTime ? data.ApproximateCreationDateTime.getTime() / 1000 : undefined,
      Keys: repairImage(data.Keys) as never,
      NewImage: repairImage(data.NewImage) as never,
      OldImage: repairImage(data.OldImage) as never,
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType,
    },
  };
}

/**
 * DynamoDB Local's stream (through the SDK) hands an empty map attribute over as `{}`, without its
 * `M` tag, which no unmarshaller accepts; AWS sends `{"M": {}}`. Puts the tag back, at any depth.
 */
function repairImage(image: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!image) return image;
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, repairValue(value)]));
}

function repairValue(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const attribute = value as Record<string, unknown>;
  const tags = Object.keys(attribute).filter((tag) => attribute[tag] !== undefined);
  if (tags.length === 0) return { M: {} };
  if (attribute.M && typeof attribute.M === 'object') return { M: repairImage(attribute.M as Record<string, unknown>) };
  if (Array.isArray(attribute.L)) return { L: attribute.L.map(repairValue) };
  return value;
}

function readCheckpoint(file: string): Checkpoint | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
    return typeof parsed.streamArn === 'string' && parsed.shards && typeof parsed.shards === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Written asynchronously (the loop awaits it): a synchronous write blocked every handler of the stack's process for its length. */
async function writeCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(checkpoint));
  await rename(`${file}.tmp`, file);
}
