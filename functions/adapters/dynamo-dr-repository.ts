import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModification, DrJobNotFound, DrTargetBusy } from '../core/errors.ts';
import { progressOf } from '../core/dr/model.ts';
import type { DrEvent, DrJob } from '../core/dr/model.ts';
import type { TrafficPointer } from '../core/dr/pointer.ts';
import type { DrRepository, JobChange, QuiesceFlag } from '../core/dr/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';

const MAX_ATTEMPTS = 10;
const jobPk = (id: string) => `DR#JOB#${id}`;
const eventSk = (seq: number) => `EVENT#${String(seq).padStart(10, '0')}`;
const QUIESCE_PK = 'DR#QUIESCE';
const pointerKey = (target: string) => ({ pk: `DR#POINTER#${target}`, sk: 'POINTER' });
const STORAGE = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'entity'];

function strip<T>(item: Record<string, unknown>): T {
  const copy = { ...item };
  for (const name of STORAGE) delete copy[name];
  return copy as T;
}

/**
 * DR jobs (`pk = DR#JOB#id`: `sk` `JOB` and `EVENT#nnnnnnnnnn`), quiesce flags (`pk = DR#QUIESCE`,
 * `sk` = target) and traffic pointers (`pk = DR#POINTER#target`) in the state table. A job change and
 * its events are one transaction, conditioned on the job's version.
 */
export class DynamoDrRepository implements DrRepository {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: () => Date;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string; clock?: () => Date }) {
    this.#db = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? (() => new Date());
  }

  async createJob(job: DrJob, event: JobChange['events'][number]): Promise<void> {
    const now = this.#clock().toISOString();
    const first: DrEvent = { jobId: job.id, seq: 1, state: job.state, progress: 0, ts: now, ...event };
    try {
      await this.#db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#table,
                Item: { pk: jobPk(job.id), sk: 'JOB', entity: 'DrJob', gsi1pk: 'DR#JOBS', gsi1sk: `${job.createdAt}#${job.id}`, ...job, eventSeq: 1 },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.#table,
                Item: { pk: jobPk(job.id), sk: eventSk(1), entity: 'DrEvent', ...first },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      rethrowAwsError(error, 'recording the DR job');
    }
  }

  async getJob(id: string): Promise<DrJob | undefined> {
    const out = await this.#db
      .send(new GetCommand({ TableName: this.#table, Key: { pk: jobPk(id), sk: 'JOB' }, ConsistentRead: true }))
      .catch((e) => rethrowAwsError(e, 'reading the DR job'));
    return out.Item ? strip<DrJob>(out.Item) : undefined;
  }

  async updateJob(id: string, change: (job: DrJob) => JobChange): Promise<DrJob> {
    for (let attempt = 1; ; attempt += 1) {
      const job = await this.getJob(id);
      if (!job) throw new DrJobNotFound(`DR job ${id} does not exist`);
      const { job: patch, events } = change(job);
      const now = this.#clock().toISOString();
      const updated: DrJob = { ...job, ...patch, updatedAt: now, version: job.version + 1, eventSeq: job.eventSeq + events.length };
      const progress = progressOf(updated.steps, updated.state);
      const items = [
        {
          Put: {
            TableName: this.#table,
            Item: { pk: jobPk(id), sk: 'JOB', entity: 'DrJob', gsi1pk: 'DR#JOBS', gsi1sk: `${job.createdAt}#${id}`, ...updated },
            ConditionExpression: '#v = :v',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':v': job.version },
          },
        },
        ...events.map((event, index) => {
          const seq = job.eventSeq + index + 1;
          const item: DrEvent = { jobId: id, seq, state: updated.state, progress, ts: now, ...event };
          return {
            Put: {
              TableName: this.#table,
              Item: { pk: jobPk(id), sk: eventSk(seq), entity: 'DrEvent', ...item },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          };
        }),
      ];
      try {
        await this.#db.send(new TransactWriteCommand({ TransactItems: items }));
        return updated;
      } catch (error) {
        const lost = error instanceof TransactionCanceledException && error.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed');
        if (lost && attempt < MAX_ATTEMPTS) continue;
        if (lost) throw new ConcurrentModification(`DR job ${id} kept changing under ${MAX_ATTEMPTS} attempts`);
        rethrowAwsError(error, 'updating the DR job');
      }
    }
  }

  async listEvents(id: string, afterSeq = 0): Promise<DrEvent[]> {
    const events: DrEvent[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.#db
        .send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': jobPk(id), ':from': eventSk(afterSeq + 1), ':to': 'EVENT#9999999999' },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        )
        .catch((e) => rethrowAwsError(e, 'reading DR events'));
      events.push(...(out.Items ?? []).map((item) => strip<DrEvent>(item)));
      start = out.LastEvaluatedKey;
    } while (start);
    return events;
  }

  async latestCompleteBackup(target: string): Promise<DrJob | undefined> {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.#db
        .send(
          new QueryCommand({
            TableName: this.#table,
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :jobs',
            FilterExpression: '#kind = :backup AND #target = :target AND #state = :complete',
            ExpressionAttributeNames: { '#kind': 'kind', '#target': 'target', '#state': 'state' },
            ExpressionAttributeValues: { ':jobs': 'DR#JOBS', ':backup': 'BACKUP', ':target': target, ':complete': 'COMPLETE' },
            ScanIndexForward: false,
            ExclusiveStartKey: start,
          }),
        )
        .catch((e) => rethrowAwsError(e, 'finding the latest backup'));
      const found = out.Items?.[0];
      if (found) return strip<DrJob>(found);
      start = out.LastEvaluatedKey;
    } while (start);
    return undefined;
  }

  async quiesce(flag: QuiesceFlag): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk: QUIESCE_PK, sk: flag.target, entity: 'DrQuiesce', ...flag },
          ConditionExpression: 'attribute_not_exists(pk) OR jobId = :job OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':job': flag.jobId, ':now': this.#clock().toISOString() },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new DrTargetBusy(`another DR job holds ${flag.target} quiesced`);
      rethrowAwsError(error, 'quiescing the target');
    }
  }

  async unquiesce(target: string, jobId: string): Promise<void> {
    try {
      await this.#db.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { pk: QUIESCE_PK, sk: target },
          ConditionExpression: 'attribute_not_exists(pk) OR jobId = :job',
          ExpressionAttributeValues: { ':job': jobId },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return; // another job's flag: not ours to lift
      rethrowAwsError(error, 'lifting the quiesce');
    }
  }

  async listQuiesceFlags(): Promise<QuiesceFlag[]> {
    const out = await this.#db
      .send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': QUIESCE_PK },
          ConsistentRead: true,
        }),
      )
      .catch((e) => rethrowAwsError(e, 'reading quiesce flags'));
    return (out.Items ?? []).map((item) => strip<QuiesceFlag>(item));
  }

  async getPointer(target: string): Promise<TrafficPointer | undefined> {
    const out = await this.#db
      .send(new GetCommand({ TableName: this.#table, Key: pointerKey(target), ConsistentRead: true }))
      .catch((e) => rethrowAwsError(e, 'reading the traffic pointer'));
    return out.Item ? strip<TrafficPointer>(out.Item) : undefined;
  }

  async putPointer(pointer: TrafficPointer, expectedVersion: number): Promise<void> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...pointerKey(pointer.target), entity: 'DrPointer', ...pointer },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : '#v = :v',
          ...(expectedVersion === 0 ? {} : { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new DrTargetBusy(`the traffic pointer of ${pointer.target} changed meanwhile (expected version ${expectedVersion})`);
      rethrowAwsError(error, 'flipping the traffic pointer');
    }
  }
}
