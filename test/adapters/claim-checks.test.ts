import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoApplyReads } from '../../functions/adapters/dynamo-apply-reads.ts';
import { DynamoControlStore } from '../../functions/adapters/dynamo-control-store.ts';
import { DynamoDrRepository } from '../../functions/adapters/dynamo-dr-repository.ts';
import { DynamoRunRepository } from '../../functions/adapters/dynamo-run-repository.ts';
import { ConcurrentModification } from '../../functions/core/errors.ts';
import type { Run } from '../../functions/core/runs/model.ts';
import type { RunChange } from '../../functions/core/runs/ports.ts';
import { ensureStateTable } from '../../local/dynamodb/tables.ts';
import { createOneTaskRun } from '../support/one-task-run.ts';

/**
 * What the apply gate takes as so without reading it (the kill switch off, no quiesce flag holding),
 * checked inside the claim's transaction: a claim refused on either writes nothing, and the apply's
 * read then reads exactly what it left out.
 */
const client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
// A table of its own: the control record is one per table.
const tableName = `claim-${randomBytes(3).toString('hex')}-maestro-state`;
const repository = new DynamoRunRepository({ client: documents, tableName });
const control = new DynamoControlStore({ client: documents, tableName });
const dr = new DynamoDrRepository({ client: documents, tableName });
const initialControl = { killSwitch: { engaged: false } };

async function newRun(): Promise<Run> {
  return (await createOneTaskRun(repository, { goal: 'claim' })).run;
}

const claim = (run: Run, unchanged: RunChange['unchanged']) =>
  repository.commit(run.id, {
    head: run,
    unchanged,
    tasks: [{ index: 0, claim: { now: Date.now() }, patch: { status: 'APPLYING', attempt: 1, leaseExpiresAt: Date.now() + 10_000 } }],
    events: [{ type: 'TaskApplying', message: 'claim' }],
  });
const written = async (runId: string) => {
  const found = (await repository.getWithTasks(runId))!;
  return { events: (await repository.listEvents(runId)).items.map((event) => event.type), task: found.tasks[0].status };
};
const setKillSwitch = (engaged: boolean) => control.setKillSwitch({ engaged, reason: 'test', changedBy: 'admin', changedAt: new Date().toISOString() }, 'c');

beforeAll(async () => {
  await ensureStateTable(client, tableName);
});

describe('the claim checks what the gate did not read', () => {
  it('refuses a claim once the kill switch is engaged (nothing written), and takes it once released', async () => {
    const run = await newRun();
    const now = new Date().toISOString();
    await setKillSwitch(true);
    const refused = await claim(run, { killSwitch: { engagedByDefault: false }, now }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConcurrentModification);
    expect((refused as ConcurrentModification).details).toEqual({ changed: 'killSwitch' });
    expect(await written(run.id)).toEqual({ events: ['RunCreated'], task: 'PLANNED' });
    await setKillSwitch(false);
    await claim(run, { killSwitch: { engagedByDefault: false }, now });
    expect(await written(run.id)).toEqual({ events: ['RunCreated', 'TaskApplying'], task: 'APPLYING' });
  });

  it('takes a kill switch that starts engaged (no control record) as engaged, and an explicit release as released', async () => {
    // A table with no control record yet.
    const table = `claim-${randomBytes(3).toString('hex')}-maestro-state`;
    await ensureStateTable(client, table);
    const fresh = new DynamoRunRepository({ client: documents, tableName: table });
    const { run: createdRun } = await createOneTaskRun(fresh, { goal: 'g' });
    const { id } = createdRun;
    const now = new Date().toISOString();
    const change = (engagedByDefault: boolean) => ({
      head: createdRun,
      unchanged: { killSwitch: { engagedByDefault }, now },
      tasks: [{ index: 0, claim: { now: Date.now() }, patch: { status: 'APPLYING' as const, attempt: 1, leaseExpiresAt: Date.now() + 10_000 } }],
      events: [{ type: 'TaskApplying', message: 'claim' }],
    });
    await expect(fresh.commit(id, change(true))).rejects.toBeInstanceOf(ConcurrentModification);
    await new DynamoControlStore({ client: documents, tableName: table }).setKillSwitch(
      { engaged: false, reason: 'released', changedBy: 'admin', changedAt: now },
      'c',
    );
    await fresh.commit(id, change(true));
    expect((await fresh.getWithTasks(id))!.tasks[0].status).toBe('APPLYING');
  });

  it('refuses a claim while a configured target is quiesced (nothing written); an expired flag or an unchecked target does not', async () => {
    const run = await newRun();
    const until = new Date(Date.now() + 60_000).toISOString();
    await dr.quiesce({ target: 'demo', jobId: 'job-1', tables: ['t'], prefixes: [], until });
    const now = new Date().toISOString();
    const refused = await claim(run, { killSwitch: { engagedByDefault: false }, quiesceTargets: ['other', 'demo'], now }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConcurrentModification);
    expect((refused as ConcurrentModification).details).toEqual({ changed: 'quiesce', target: 'demo' });
    expect(await written(run.id)).toEqual({ events: ['RunCreated'], task: 'PLANNED' });
    // As the flag's bound has passed, it holds nothing (quiesceFlagFor's rule).
    const later = new Date(Date.parse(until) + 1).toISOString();
    await claim(run, { killSwitch: { engagedByDefault: false }, quiesceTargets: ['other', 'demo'], now: later });
    expect(await written(run.id)).toEqual({ events: ['RunCreated', 'TaskApplying'], task: 'APPLYING' });
    await dr.unquiesce('demo', 'job-1');
  });

  it('reads the run and task alone when asked to leave the control record and the flags out', async () => {
    const run = await newRun();
    const reads = new DynamoApplyReads({ client: documents, tableName, quiesceTargets: ['demo'] });
    await dr.quiesce({ target: 'demo', jobId: 'job-2', tables: ['t'], prefixes: [], until: new Date(Date.now() + 60_000).toISOString() });
    const alone = await reads.read({ runId: run.id, taskIndex: 0, initialControl, control: false, quiesceFlags: false });
    expect(alone).toEqual({ run: expect.objectContaining({ id: run.id }), task: expect.objectContaining({ index: 0 }) });
    const all = await reads.read({ runId: run.id, taskIndex: 0, initialControl });
    expect(all!.quiesceFlags).toHaveLength(1);
    expect(all!.control).toEqual(await control.read(initialControl));
    await dr.unquiesce('demo', 'job-2');
  });
});
