import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoRunRepository } from '../../functions/adapters/dynamo-run-repository.ts';
import { DuplicateInFlight } from '../../functions/core/errors.ts';
import { ensureStateTable } from '../../local/dynamodb/tables.ts';
import { createOneTaskRun } from '../support/one-task-run.ts';

const client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const tableName = `claims-${randomBytes(3).toString('hex')}-maestro-state`;
const repository = new DynamoRunRepository({ client: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), tableName });

async function plannedRun(): Promise<string> {
  return (await createOneTaskRun(repository, { goal: 'claims', status: 'APPLYING' })).run.id;
}
const claim = (runId: string, now: number, attempt: number) =>
  repository.commit(runId, {
    tasks: [{ index: 0, claim: { now }, patch: { status: 'APPLYING', attempt, leaseExpiresAt: now + 10_000 } }],
    events: [{ type: 'TaskApplying', message: `attempt ${attempt}` }],
  });

beforeAll(async () => {
  await ensureStateTable(client, tableName);
});

describe('claiming a task for one apply', () => {
  it('refuses a duplicate while the lease is live, and lets a replay reclaim an expired one', async () => {
    const runId = await plannedRun();
    await claim(runId, 1_000_000, 1);
    await expect(claim(runId, 1_005_000, 2)).rejects.toBeInstanceOf(DuplicateInFlight);
    await claim(runId, 1_011_000, 2); // the first applier's lease ran out: the crash case
    const { tasks } = (await repository.getWithTasks(runId))!;
    expect(tasks[0]).toMatchObject({ status: 'APPLYING', attempt: 2, leaseExpiresAt: 1_021_000 });
  });

  it('renews only the current attempt’s lease', async () => {
    const runId = await plannedRun();
    await claim(runId, 2_000_000, 1);
    expect(await repository.renewTaskLease(runId, 0, 1, 2_020_000)).toBe(true);
    await expect(claim(runId, 2_015_000, 2)).rejects.toBeInstanceOf(DuplicateInFlight);
    expect(await repository.renewTaskLease(runId, 0, 7, 2_030_000)).toBe(false);
  });
});
