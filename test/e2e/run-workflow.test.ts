import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTask } from '../../functions/core/runs/apply-task.ts';
import { finalizeRun } from '../../functions/core/runs/finalize-run.ts';
import { rollBackRun } from '../../functions/core/runs/roll-back-run.ts';
import { verifyRun } from '../../functions/core/runs/verify-run.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { createOneTaskRun } from '../support/one-task-run.ts';
import { api, startTestStack, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

let stack: EmbeddedStack;
let s3: S3Client;
let sfn: SFNClient;
let items: DynamoDBDocumentClient;

beforeAll(async () => {
  stack = await startTestStack('workflow');
  // The stack points the SDK at its endpoints through AWS_ENDPOINT_URL_*, so plain clients reach it.
  s3 = new S3Client({ forcePathStyle: true });
  sfn = new SFNClient({});
  items = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});
afterAll(async () => {
  await stack?.stop();
});

/** The run is finalized a moment before its execution reaches its last state: wait for that. */
async function executionOf(executionArn: string) {
  for (let i = 0; i < 200; i += 1) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${executionArn} is still RUNNING`);
}

const bodyOf = async (key: string, versionId?: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: key, VersionId: versionId }))).Body!.transformToString();

async function createRun(body: unknown) {
  const response = await api(stack, 'POST', '/runs', { body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.runId as string;
}

describe('a run through HTTP → local Step Functions → handlers', () => {
  it('applies every task, verifies, and records statuses and events in order (golden path)', async () => {
    const runId = await createRun({
      goal: 'golden path',
      mode: 'APPLY',
      reasonForAccess: 'golden path of the run workflow',
      tasks: [
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'golden/hello.txt', body: 'hello\n' } },
        { action: 'dynamodb.put-item', params: { table: stack.demoTable, item: { id: 'golden', text: 'hello' } } },
        { action: 'noop', params: { sleepMs: 10 } },
      ],
    });
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.map((task: { status: string }) => task.status)).toEqual(['VERIFIED', 'VERIFIED', 'VERIFIED']);
    expect(run.tasks[0].plan.change).toBe('create');
    expect(run.tasks[0].plan.diff).toContain('+hello');
    expect(run.planDigest).toMatch(/^[0-9a-f]{64}$/);

    expect(await bodyOf('golden/hello.txt')).toBe('hello\n');
    // Actions that reach the network applied in the sandbox: another process, under the permission model.
    for (const task of run.tasks.slice(0, 2)) {
      expect(task.outcome.isolation.permissionModel).toBe(true);
      expect(task.outcome.isolation.pid).not.toBe(process.pid);
    }
    expect(run.tasks[2].outcome.isolation).toBeUndefined(); // noop reaches nothing: in-process
    const item = await items.send(new GetCommand({ TableName: stack.demoTable, Key: { id: 'golden' } }));
    expect(item.Item).toEqual({ id: 'golden', text: 'hello' });

    const { body } = await api(stack, 'GET', `/runs/${runId}/events`);
    const types: string[] = body.events.map((event: { type: string }) => event.type);
    expect(types).toEqual([
      'RunRequested',
      'RunAdmitted',
      'TaskPlanned',
      'TaskPlanned',
      'TaskPlanned',
      'PlanSimulated',
      'RunPlanned',
      'ApprovalNotRequired',
      'RunApplying',
      'TaskApplying',
      'TaskApplied',
      'TaskApplying',
      'TaskApplied',
      'TaskApplying',
      'TaskApplied',
      'RunVerifying',
      'TaskVerified',
      'TaskVerified',
      'TaskVerified',
      'RunSucceeded',
    ]);
    expect(body.events.map((event: { seq: number }) => event.seq)).toEqual(types.map((_, i) => i + 1));

    const execution = await executionOf(run.executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    // Verify records nothing when every task passes: it hands them to Finalize, whose one commit
    // records them with the run's end (one commit: its one time on every one of those events).
    const history = (await sfn.send(new GetExecutionHistoryCommand({ executionArn: run.executionArn, maxResults: 1000 }))).events!;
    const finalizeInput = history.find((event) => event.type === 'TaskStateEntered' && event.stateEnteredEventDetails?.name === 'Finalize');
    // The last task's apply record rides in the execution's state from ApplyTask to that same commit.
    expect(JSON.parse(finalizeInput!.stateEnteredEventDetails!.input!).result).toEqual({
      outcome: 'SUCCEEDED',
      verified: [0, 1, 2],
      applied: [expect.objectContaining({ taskIndex: 2, attempt: 1, appliedAt: expect.any(String) })],
    });
    const finishing = body.events.slice(-6) as { type: string; ts: string; taskIndex?: number; payload?: { appliedAt?: string } }[];
    expect(finishing[0]).toMatchObject({ type: 'TaskApplied', taskIndex: 2, payload: { appliedAt: expect.any(String) } });
    expect(new Set(finishing.map((event) => event.ts)).size).toBe(1);
  });

  it("Finalize records only tasks Verify may have passed, and an older definition's Verify records them itself", async () => {
    // GIVEN a run whose one task failed to apply
    const { run } = await createOneTaskRun(stack.deps.runs, { goal: 'finalize guard', status: 'APPLYING' });
    await stack.deps.runs.commit(run.id, { tasks: [{ index: 0, patch: { status: 'FAILED' } }], events: [{ type: 'TaskFailed', message: 'x' }] });
    // WHEN Finalize is told it passed verification THEN it refuses, naming the task, and writes nothing
    const before = await stack.deps.runs.get(run.id);
    await expect(finalizeRun(stack.deps, { runId: run.id, result: { outcome: 'SUCCEEDED', verified: [0] } })).rejects.toThrow(
      /VerificationFailed|task 0 is FAILED/,
    );
    expect(await stack.deps.runs.get(run.id)).toEqual(before);

    // GIVEN an applied task WHEN Verify runs without leaveToFinalize (an execution started on the older definition)
    const applied = await createOneTaskRun(stack.deps.runs, { goal: 'verify records', status: 'APPLYING' });
    await stack.deps.runs.commit(applied.run.id, {
      tasks: [
        {
          index: 0,
          patch: { status: 'APPLIED', plan: { summary: 'noop', change: 'none', resource: 'noop://', diff: '', preconditions: {}, data: {} }, outcome: {} },
        },
      ],
      events: [{ type: 'TaskApplied', message: 'x' }],
    });
    // THEN it records the run VERIFYING and the task VERIFIED itself, and leaves nothing to Finalize
    expect(await verifyRun(stack.deps, applied.run.id)).toMatchObject({ verified: 1, passed: [], status: { before: 'APPLYING', after: 'VERIFYING' } });
    const recorded = await stack.deps.runs.getWithTasks(applied.run.id);
    expect([recorded!.run.status, recorded!.tasks[0].status]).toEqual(['VERIFYING', 'VERIFIED']);
    // AND with it, the same verification is left to Finalize, which records nothing twice
    expect(await verifyRun(stack.deps, applied.run.id, { leaveToFinalize: true })).toMatchObject({ verified: 1, passed: [] });
    expect((await finalizeRun(stack.deps, { runId: applied.run.id, result: { outcome: 'SUCCEEDED', verified: [0] } })).status).toBe('SUCCEEDED');
    const types = (await stack.deps.runs.listEvents(applied.run.id)).items.map((event) => event.type);
    expect(types.slice(-4)).toEqual(['TaskApplied', 'RunVerifying', 'TaskVerified', 'RunSucceeded']);
  });

  it('rolls back to the previous object version when Verify fails', async () => {
    const key = 'rollback/config.txt';
    const before = await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: key, Body: 'version one\n' }));
    await items.send(new PutCommand({ TableName: stack.demoTable, Item: { id: 'rollback', value: 1 } }));
    const runId = await createRun({
      goal: 'change then fail verification',
      mode: 'APPLY',
      reasonForAccess: 'end-to-end test of the run workflow',
      tasks: [
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: 'version two\n' } },
        { action: 'dynamodb.put-item', params: { table: stack.demoTable, item: { id: 'rollback', value: 2 } } },
        { action: 'noop', params: { failIn: 'verify' } },
      ],
    });
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('ROLLED_BACK');
    expect(run.error.name).toBe('VerificationFailed');
    expect(run.tasks.map((task: { status: string }) => task.status)).toEqual(['ROLLED_BACK', 'ROLLED_BACK', 'ROLLED_BACK']);

    expect(await bodyOf(key)).toBe('version one\n');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: key }));
    expect(versions.Versions).toHaveLength(3); // one, two, and one restored on top
    expect(await bodyOf(key, before.VersionId)).toBe('version one\n');
    const item = await items.send(new GetCommand({ TableName: stack.demoTable, Key: { id: 'rollback' } }));
    expect(item.Item).toEqual({ id: 'rollback', value: 1 });

    const { body } = await api(stack, 'GET', `/runs/${runId}/events`);
    const types: string[] = body.events.map((event: { type: string }) => event.type);
    expect(types).toContain('TaskVerificationFailed');
    // Compensation runs in reverse order of application.
    const undone = body.events.filter((event: { type: string }) => event.type === 'TaskRolledBack').map((event: { taskIndex: number }) => event.taskIndex);
    expect(undone).toEqual([2, 1, 0]);
    expect(types.at(-1)).toBe('RunRolledBack');
    const execution = await executionOf(run.executionArn);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('RunDidNotSucceed');
  });

  it('plans, then verifies, every task of a run in one executor batch; a task that fails fails alone, and what follows it is not recorded', async () => {
    const executor = stack.deps.executor;
    const batches: { operation: string; tasks: number[] }[] = [];
    const batch = executor.executeBatch!.bind(executor);
    executor.executeBatch = (requests) => {
      batches.push({ operation: requests[0].operation, tasks: requests.map((request) => request.taskIndex) });
      return batch(requests);
    };
    try {
      const failsPlan = await createRun({
        goal: 'the middle task fails in plan',
        mode: 'APPLY',
        reasonForAccess: 'end-to-end test of batched plans',
        tasks: [
          { action: 'noop', params: {} },
          { action: 'noop', params: { failIn: 'plan' } },
          { action: 'noop', params: {} },
        ],
      });
      const planned = await waitForRun(stack, failsPlan);
      expect(planned.status).toBe('FAILED');
      expect(planned.tasks.map((task: { status: string }) => task.status)).toEqual(['PENDING', 'FAILED', 'PENDING']);
      expect(planned.tasks[1].error).toMatchObject({ name: 'ActionFailed', message: 'noop was asked to fail in plan' });
      const planEvents = (await api(stack, 'GET', `/runs/${failsPlan}/events`)).body.events as { type: string; taskIndex?: number }[];
      expect(planEvents.filter((event) => event.taskIndex !== undefined).map((event) => [event.type, event.taskIndex])).toEqual([['TaskPlanFailed', 1]]);
      expect(batches.filter((entry) => entry.operation === 'plan')).toEqual([{ operation: 'plan', tasks: [0, 1, 2] }]);

      batches.length = 0;
      const failsVerify = await createRun({
        goal: 'the middle task fails in verify',
        mode: 'APPLY',
        reasonForAccess: 'end-to-end test of batched verifies',
        tasks: [
          { action: 'noop', params: {} },
          { action: 'noop', params: { failIn: 'verify' } },
          { action: 'noop', params: {} },
        ],
      });
      const verified = await waitForRun(stack, failsVerify);
      expect(verified.status).toBe('ROLLED_BACK');
      const verifyEvents = (await api(stack, 'GET', `/runs/${failsVerify}/events`)).body.events as { type: string; taskIndex?: number }[];
      expect(verifyEvents.filter((event) => event.type.startsWith('TaskVerif')).map((event) => [event.type, event.taskIndex])).toEqual([
        ['TaskVerified', 0],
        ['TaskVerificationFailed', 1],
      ]);
      expect(batches).toEqual([
        { operation: 'plan', tasks: [0, 1, 2] },
        { operation: 'verify', tasks: [0, 1, 2] },
      ]);
    } finally {
      executor.executeBatch = batch;
    }
  });

  it('writes nothing in PLAN mode, and shows the diff', async () => {
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: 'plan/existing.txt', Body: 'old line\n' }));
    const runId = await createRun({
      goal: 'just show me',
      mode: 'PLAN',
      reasonForAccess: 'end-to-end test of the run workflow',
      tasks: [
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'plan/new.txt', body: 'new\n' } },
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'plan/existing.txt', body: 'new line\n' } },
        { action: 'dynamodb.put-item', params: { table: stack.demoTable, item: { id: 'plan-only' } } },
      ],
    });
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('PLANNED');
    expect(run.finishedAt).toBeDefined();
    expect(run.tasks.map((task: { status: string }) => task.status)).toEqual(['PLANNED', 'PLANNED', 'PLANNED']);
    expect(run.tasks[1].plan.diff).toContain('-old line');
    expect(run.tasks[1].plan.diff).toContain('+new line');

    await expect(s3.send(new HeadObjectCommand({ Bucket: stack.demoBucket, Key: 'plan/new.txt' }))).rejects.toMatchObject({ name: 'NotFound' });
    expect(await bodyOf('plan/existing.txt')).toBe('old line\n');
    const item = await items.send(new GetCommand({ TableName: stack.demoTable, Key: { id: 'plan-only' } }));
    expect(item.Item).toBeUndefined();
    const { body } = await api(stack, 'GET', `/runs/${runId}/events`);
    expect(body.events.map((event: { type: string }) => event.type)).not.toContain('TaskApplying');
  });

  it('refuses a stale plan: a change made after planning is not overwritten', async () => {
    const key = 'stale/target.txt';
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: key, Body: 'original\n' }));
    const runId = await createRun({
      goal: 'race a human',
      mode: 'APPLY',
      reasonForAccess: 'end-to-end test of the run workflow',
      tasks: [
        { action: 'noop', params: { sleepMs: 1500 } },
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: 'from maestro\n' } },
      ],
    });
    // While task 0 works, someone else changes the object task 1 planned against.
    await waitForRunWhere(stack, runId, (run) => run.status === 'APPLYING', 'applying');
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: key, Body: 'from a human\n' }));
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('ROLLED_BACK');
    expect(run.error.name).toBe('StalePlan');
    expect(await bodyOf(key)).toBe('from a human\n');
  });

  it('cancels a running run: the current task finishes, nothing after it applies, what was applied is rolled back', async () => {
    const runId = await createRun({
      goal: 'to be cancelled',
      mode: 'APPLY',
      reasonForAccess: 'end-to-end test of the run workflow',
      tasks: [
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'cancel/first.txt', body: 'first\n' } },
        { action: 'noop', params: { sleepMs: 1500 } },
        { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'cancel/never.txt', body: 'never\n' } },
      ],
    });
    await waitForRunWhere(stack, runId, (run) => run.tasks[1].status === 'APPLYING', 'task 1 applying');
    const cancelled = await api(stack, 'POST', `/runs/${runId}/cancel`, { body: { reason: 'changed my mind' } });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ status: 'APPLYING', cancelRequested: true });
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('CANCELLED');
    expect(run.tasks.map((task: { status: string }) => task.status)).toEqual(['ROLLED_BACK', 'ROLLED_BACK', 'PLANNED']);
    await expect(s3.send(new HeadObjectCommand({ Bucket: stack.demoBucket, Key: 'cancel/never.txt' }))).rejects.toMatchObject({ name: 'NotFound' });
    await expect(s3.send(new HeadObjectCommand({ Bucket: stack.demoBucket, Key: 'cancel/first.txt' }))).rejects.toMatchObject({ name: 'NotFound' });
    const types = (await api(stack, 'GET', `/runs/${runId}/events`)).body.events.map((event: { type: string }) => event.type);
    expect(types).toContain('CancelRequested');
    expect(types.at(-1)).toBe('RunCancelled');
    const again = await api(stack, 'POST', `/runs/${runId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RunAlreadyFinished');
  });

  it('cancels a run before it applies at once: the workflow is stopped', async () => {
    const runId = await createRun({
      goal: 'cancel while waiting for approval',
      mode: 'APPLY',
      environment: 'prod',
      reasonForAccess: 'end-to-end test of the run workflow',
      tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'cancel/parked.txt', body: 'parked\n' } }],
    });
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL', 'awaiting approval');
    const cancelled = await api(stack, 'POST', `/runs/${runId}/cancel`, { body: { reason: 'not needed' } });
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', cancelRequested: false });
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('CANCELLED');
    const execution = await executionOf(run.executionArn);
    expect(execution.status).toBe('ABORTED');
  });
});

describe("the last task's apply record, carried in the workflow's state to the run's next commit", () => {
  type Event = { type: string; ts: string; taskIndex?: number; payload?: { outcome?: unknown; appliedAt?: string } };
  const eventsOf = async (runId: string) => (await api(stack, 'GET', `/runs/${runId}/events`)).body.events as Event[];
  const stateOf = async (runId: string) => {
    const read = (await stack.deps.runs.getWithTasks(runId))!;
    return { status: read.run.status, tasks: read.tasks.map(({ status, attempt, outcome }) => ({ status, attempt, outcome })), events: read.run.eventSeq };
  };

  /** A prod run parked for approval and approved in the table, so the apply below is the only one (the parked execution never resumes). */
  async function approvedRun(key: string, body: string) {
    const runId = await createRun({
      goal: 'deferred apply record',
      mode: 'APPLY',
      environment: 'prod',
      reasonForAccess: 'end-to-end test of the deferred apply record',
      tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body } }],
    });
    // Settled: parked and the approvers notified (the last event a parked run writes on its own), so every event after this is the test's.
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL' && run.approval?.notifiedAt, 'parked, approvers notified');
    const parked = (await stack.deps.runs.get(runId))!;
    await stack.deps.runs.commit(runId, {
      run: { approval: { ...parked.approval!, state: 'APPROVED', decidedBy: 'dev-approver', decidedAt: new Date().toISOString() } },
      events: [{ type: 'ApprovalGranted', message: 'approved for the deferred-record test' }],
    });
    const applied = await applyTask(stack.deps, { runId, taskIndex: 0, lockHint: parked.lockResources, deferRecord: true });
    return { runId, deferred: applied.deferred! };
  }

  it('leaves the task APPLYING with no TaskApplied; a stale record is refused; a rollback after Verify stopped short records it first', async () => {
    const key = 'deferred/rollback.txt';
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: key, Body: 'one\n' }));
    const { runId, deferred } = await approvedRun(key, 'two\n');
    expect(deferred).toMatchObject({ taskIndex: 0, attempt: 1, outcome: expect.any(Object), appliedAt: expect.any(String) });
    expect(await bodyOf(key)).toBe('two\n');
    const applying = await stateOf(runId);
    expect(applying.tasks).toEqual([{ status: 'APPLYING', attempt: 1, outcome: undefined }]);
    const recorded = (await eventsOf(runId)).map((event) => event.type);
    expect(recorded).toContain('TaskApplying');
    expect(recorded).not.toContain('TaskApplied');

    // A record from another claim than the task holds (a replay of an older attempt) is not written, by Verify or by Finalize.
    const stale = { ...deferred, attempt: deferred.attempt + 1 };
    await expect(verifyRun(stack.deps, runId, { leaveToFinalize: true, applied: [stale] })).rejects.toThrow(/task 0 is APPLYING, not applied/);
    await expect(finalizeRun(stack.deps, { runId, result: { outcome: 'SUCCEEDED', verified: [0], applied: [stale] } })).rejects.toThrow(/task 0 is APPLYING/);
    expect((await stateOf(runId)).tasks).toEqual(applying.tasks);
    expect((await eventsOf(runId)).map((event) => event.type)).not.toContain('TaskApplied');

    // Verify timed out before any commit: RollBack gets the record from the state, records it, then undoes the write.
    const error = { Error: 'States.Timeout', Cause: 'Verify timed out' };
    expect(await rollBackRun(stack.deps, { runId, error, applied: [deferred] })).toMatchObject({ outcome: 'ROLLED_BACK' });
    const tail = (await eventsOf(runId)).slice(-3);
    expect(tail.map((event) => event.type)).toEqual(['TaskApplied', 'RollbackStarted', 'TaskRolledBack']);
    expect(tail[0].ts).toBe(tail[1].ts);
    expect(tail[0].payload).toMatchObject({ outcome: deferred.outcome, appliedAt: deferred.appliedAt });
    expect(await bodyOf(key)).toBe('one\n');
    // A replay of the rollback finds the record written and the task undone: nothing more.
    const rolledBack = await stateOf(runId);
    expect(rolledBack.tasks).toEqual([{ status: 'ROLLED_BACK', attempt: 1, outcome: deferred.outcome }]);
    await rollBackRun(stack.deps, { runId, error, applied: [deferred] });
    expect(await stateOf(runId)).toEqual(rolledBack);
    await finalizeRun(stack.deps, { runId, result: { outcome: 'ROLLED_BACK', error } });
  });

  it('Verify records the carried apply with a failed verification; a passed one goes to Finalize, which records it once with the run’s end', async () => {
    const failing = await approvedRun('deferred/changed.txt', 'ours\n');
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: 'deferred/changed.txt', Body: 'someone else\n' }));
    await expect(verifyRun(stack.deps, failing.runId, { leaveToFinalize: true, applied: [failing.deferred] })).rejects.toMatchObject({
      name: 'VerificationFailed',
    });
    expect((await eventsOf(failing.runId)).slice(-3).map((event) => event.type)).toEqual(['TaskApplied', 'RunVerifying', 'TaskVerificationFailed']);
    expect((await stateOf(failing.runId)).tasks).toEqual([{ status: 'APPLIED', attempt: 1, outcome: failing.deferred.outcome }]);
    await rollBackRun(stack.deps, { runId: failing.runId, error: { Error: 'VerificationFailed', Cause: '' }, applied: [failing.deferred] });
    await finalizeRun(stack.deps, { runId: failing.runId, result: { outcome: 'ROLLED_BACK', error: { Error: 'VerificationFailed', Cause: '' } } });

    const passing = await approvedRun('deferred/passes.txt', 'fine\n');
    const before = await stateOf(passing.runId);
    const verification = await verifyRun(stack.deps, passing.runId, { leaveToFinalize: true, applied: [passing.deferred] });
    expect(verification).toMatchObject({ verified: 1, passed: [0], applied: [passing.deferred] });
    expect(await stateOf(passing.runId)).toEqual(before);
    const result = { outcome: 'SUCCEEDED' as const, verified: verification.passed, applied: verification.applied };
    await finalizeRun(stack.deps, { runId: passing.runId, result });
    const finished = await stateOf(passing.runId);
    expect(finished).toMatchObject({ status: 'SUCCEEDED', tasks: [{ status: 'VERIFIED', attempt: 1, outcome: passing.deferred.outcome }] });
    const tail = (await eventsOf(passing.runId)).slice(-4);
    expect(tail.map((event) => event.type)).toEqual(['TaskApplied', 'RunVerifying', 'TaskVerified', 'RunSucceeded']);
    expect(new Set(tail.map((event) => event.ts)).size).toBe(1);
    expect(tail[0].payload).toMatchObject({ outcome: passing.deferred.outcome, appliedAt: passing.deferred.appliedAt });
    // Finalize replayed (its Lambda retried) writes nothing twice.
    await finalizeRun(stack.deps, { runId: passing.runId, result });
    expect(await stateOf(passing.runId)).toEqual(finished);
  });
});
