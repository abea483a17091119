import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoRunRepository } from '../../functions/adapters/dynamo-run-repository.ts';
import { ConcurrentModification, InvalidRunTransition } from '../../functions/core/errors.ts';
import { verifyChain } from '../../functions/core/runs/journal.ts';
import type { Run, Task } from '../../functions/core/runs/model.ts';
import { ensureStateTable } from '../../local/dynamodb/tables.ts';

const client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const tableName = `repo-${randomBytes(3).toString('hex')}-maestro-state`;
const repository = new DynamoRunRepository({ client: documents, tableName });

function newRun(): { run: Run; tasks: Task[] } {
  const id = randomUUID();
  const now = new Date().toISOString();
  const run: Run = {
    id,
    goal: 'test',
    mode: 'APPLY',
    environment: 'dev',
    status: 'PENDING',
    autonomy: 3,
    requestedBy: 'tester',
    correlationId: 'corr',
    createdAt: now,
    updatedAt: now,
    taskCount: 2,
    eventSeq: 0,
    lastEventHash: '',
  };
  const tasks: Task[] = [0, 1].map((index) => ({
    runId: id,
    index,
    action: 'noop',
    actionVersion: '1.0.0',
    params: {},
    status: 'PENDING',
    attempt: 0,
    idempotencyKey: `k${index}`,
    updatedAt: now,
  }));
  return { run, tasks };
}

beforeAll(async () => {
  await ensureStateTable(client, tableName);
});

describe('DynamoRunRepository', () => {
  it('creates a run with its tasks and first event in one transaction', async () => {
    const { run, tasks } = newRun();
    const result = await repository.create({ run, tasks, events: [{ type: 'RunRequested', message: 'hi' }] });
    expect(result.created).toBe(true);
    const stored = await repository.getWithTasks(run.id);
    expect(stored?.run.status).toBe('PENDING');
    expect(stored?.run.eventSeq).toBe(1);
    expect(stored?.tasks.map((task) => task.index)).toEqual([0, 1]);
    const events = await repository.listEvents(run.id);
    expect(events.items.map((event) => event.type)).toEqual(['RunRequested']);
    expect(stored?.run.lastEventHash).toBe(events.items[0].hash);
  });

  it('returns the first run for a repeated idempotency key, with the first request hash', async () => {
    const first = newRun();
    const second = newRun();
    const key = { key: `tester#${randomUUID()}`, requestHash: 'hash-1' };
    expect((await repository.create({ ...first, events: [], idempotency: key })).created).toBe(true);
    const again = await repository.create({ ...second, events: [], idempotency: { ...key, requestHash: 'hash-2' } });
    expect(again).toEqual({ created: false, runId: first.run.id, requestHash: 'hash-1' });
    expect(await repository.get(second.run.id)).toBeUndefined();
  });

  it('keeps the event chain contiguous when many writers commit at once', async () => {
    const { run, tasks } = newRun();
    await repository.create({ run, tasks, events: [{ type: 'RunRequested', message: 'start' }] });
    await Promise.all(Array.from({ length: 8 }, (_, i) => repository.commit(run.id, { events: [{ type: 'Note', message: `writer ${i}` }] })));
    const events = (await repository.listEvents(run.id)).items;
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(verifyChain(events)).toEqual({ ok: true });
    expect((await repository.get(run.id))?.eventSeq).toBe(9);
  });

  it('refuses a status change from an unexpected status, and writes nothing', async () => {
    const { run, tasks } = newRun();
    await repository.create({ run, tasks, events: [] });
    await expect(
      repository.commit(run.id, { expectStatus: ['PLANNED'], run: { status: 'APPLYING' }, events: [{ type: 'X', message: 'x' }] }),
    ).rejects.toBeInstanceOf(InvalidRunTransition);
    const stored = await repository.get(run.id);
    expect(stored?.status).toBe('PENDING');
    expect((await repository.listEvents(run.id)).items).toHaveLength(0);
  });

  it('refuses a task change when the task moved on, and rolls the whole change back', async () => {
    const { run, tasks } = newRun();
    await repository.create({ run, tasks, events: [] });
    await expect(
      repository.commit(run.id, {
        run: { status: 'PLANNING' },
        tasks: [{ index: 1, expectStatus: ['PLANNED'], patch: { status: 'APPLYING' } }],
        events: [{ type: 'X', message: 'x' }],
      }),
    ).rejects.toBeInstanceOf(ConcurrentModification);
    const stored = await repository.getWithTasks(run.id);
    expect(stored?.run.status).toBe('PENDING');
    expect(stored?.tasks[1].status).toBe('PENDING');
  });

  it('pages events after a sequence number', async () => {
    const { run, tasks } = newRun();
    await repository.create({ run, tasks, events: ['A', 'B', 'C', 'D'].map((type) => ({ type, message: type })) });
    const page = await repository.listEvents(run.id, { afterSeq: 1, limit: 2 });
    expect(page.items.map((event) => event.type)).toEqual(['B', 'C']);
    expect(page.nextCursor).toBe('3');
  });

  it('lets verifyChain catch an event altered in the table directly', async () => {
    const { run, tasks } = newRun();
    await repository.create({ run, tasks, events: ['A', 'B', 'C'].map((type) => ({ type, message: type })) });
    await documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: `RUN#${run.id}`, sk: 'EVENT#0000000002' },
        UpdateExpression: 'SET message = :m',
        ExpressionAttributeValues: { ':m': 'forged' },
      }),
    );
    expect(verifyChain((await repository.listEvents(run.id)).items)).toEqual({ ok: false, firstBrokenSeq: 2 });
  });
});
