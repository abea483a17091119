import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SendTaskSuccessCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

let stack: EmbeddedStack;
let s3: S3Client;
let sfn: SFNClient;
beforeAll(async () => {
  stack = await startTestStack('exactly-once');
  s3 = new S3Client({ endpoint: stack.endpoints.s3, forcePathStyle: true });
  sfn = new SFNClient({ endpoint: stack.endpoints.stepfunctions });
});
afterAll(async () => {
  s3?.destroy();
  sfn?.destroy();
  await stack?.stop();
});

async function versionsOf(key: string) {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: key }));
  return (listed.Versions ?? []).filter((version) => version.Key === key);
}

const eventsOf = async (runId: string): Promise<{ type: string; taskIndex?: number }[]> => (await api(stack, 'GET', `/runs/${runId}/events`)).body.events;
const count = (events: { type: string; taskIndex?: number }[], type: string, taskIndex?: number) =>
  events.filter((event) => event.type === type && (taskIndex === undefined || event.taskIndex === taskIndex)).length;

describe('duplicates never repeat a side effect', () => {
  it('50 concurrent POST /runs with one Idempotency-Key make one run, which writes once', async () => {
    const key = 'exactly-once/concurrent.txt';
    const body = {
      goal: 'fifty at once',
      mode: 'APPLY',
      reasonForAccess: 'exactly-once test',
      tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: 'once\n' } }],
    };
    // Each caller behaves like a real client: on 429/503 it waits (Retry-After, or a jittered backoff) and sends the same request again.
    const callOnce = async () => {
      for (let attempt = 1; ; attempt += 1) {
        const response = await api(stack, 'POST', '/runs', { body, headers: { 'idempotency-key': 'fifty-at-once' } });
        if ((response.status !== 429 && response.status !== 503) || attempt === 30) return response;
        const retryAfter = Number(response.headers.get('retry-after') ?? 0);
        await sleep(retryAfter > 0 ? retryAfter * 1000 : 20 + Math.random() * 80);
      }
    };
    const responses = await Promise.all(Array.from({ length: 50 }, callOnce));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(49);
    const runIds = new Set(responses.map((response) => response.body.runId));
    expect(runIds.size).toBe(1);
    const [runId] = runIds;
    expect(responses.filter((response) => response.body.created === true)).toHaveLength(1);

    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('SUCCEEDED');
    const listed = await api(stack, 'GET', '/runs?limit=100');
    expect(listed.body.runs.filter((candidate: { goal: string }) => candidate.goal === 'fifty at once')).toHaveLength(1);
    expect(await versionsOf(key)).toHaveLength(1);
    expect(count(await eventsOf(runId), 'TaskApplying', 0)).toBe(1);

    // The same key with another body is refused, naming the header.
    const other = await api(stack, 'POST', '/runs', { body: { ...body, goal: 'something else' }, headers: { 'idempotency-key': 'fifty-at-once' } });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'IdempotencyKeyReused', field: 'Idempotency-Key' });
  });

  it('a duplicate SendTaskSuccess for the approval wait is refused and applies nothing a second time', async () => {
    const key = 'exactly-once/duplicate-token.txt';
    const created = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'duplicate token',
        mode: 'APPLY',
        // In prod the run waits for a person (one approved by policy goes from Plan straight to Apply).
        environment: 'prod',
        reasonForAccess: 'exactly-once test',
        tasks: [
          { action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: 'once\n' } },
          { action: 'noop', params: { sleepMs: 800 } },
        ],
      },
    });
    expect(created.status).toBe(201);
    const runId: string = created.body.runId;
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL', 'awaiting approval');
    expect((await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: { comment: 'once' } })).status).toBe(200);
    for (;;) {
      const { body } = await api(stack, 'GET', `/runs/${runId}`);
      if (body.run.tasks[1].status === 'APPLYING') break;
      if (body.run.finishedAt) throw new Error(`run ended ${body.run.status} before the duplicate could be sent`);
      await sleep(20);
    }

    // The token the approval wait was given, as the Lambda received it (from the execution's history).
    const executionArn = `${stack.runStateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    const scheduled = history.events!.filter(
      (event) => event.type === 'TaskScheduled' && event.taskScheduledEventDetails?.resource === 'invoke.waitForTaskToken',
    );
    expect(scheduled).toHaveLength(1);
    const token: string = JSON.parse(scheduled[0].taskScheduledEventDetails!.parameters!).Payload.taskToken;
    expect(token.length).toBeGreaterThan(20);

    // Mid-apply, the approval arrives again: refused, as AWS refuses a used token.
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true, approvedBy: 'replay' }) })),
    ).rejects.toMatchObject({
      name: 'TaskDoesNotExist',
    });

    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('SUCCEEDED');
    // And again once the run is over.
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskDoesNotExist' });

    expect(await versionsOf(key)).toHaveLength(1);
    const events = await eventsOf(runId);
    expect(count(events, 'TaskApplying', 0)).toBe(1);
    expect(count(events, 'TaskApplied', 0)).toBe(1);
    expect(count(events, 'RunApplying')).toBe(1);
    const after = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    expect(
      after.events!.filter((event) => event.type === 'TaskSucceeded' && event.taskSucceededEventDetails?.resource === 'invoke.waitForTaskToken'),
    ).toHaveLength(1);
    expect((await api(stack, 'GET', `/runs/${runId}`)).body.run.status).toBe('SUCCEEDED');
  });

  it('POST /runs/{id}/resume redrives a stopped workflow of an unfinished run from where it stopped, applying nothing twice', async () => {
    const created = await api(stack, 'POST', '/runs', {
      body: {
        goal: 'resume me',
        mode: 'APPLY',
        reasonForAccess: 'exactly-once test',
        tasks: [
          { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'exactly-once/resume-a.txt', body: 'A\n' } },
          { action: 'noop', params: { sleepMs: 600 } },
          { action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'exactly-once/resume-b.txt', body: 'B\n' } },
        ],
      },
    });
    const runId: string = created.body.runId;
    for (;;) {
      const { body } = await api(stack, 'GET', `/runs/${runId}`);
      if (body.run.tasks[1].status === 'APPLYING') break;
      await sleep(20);
    }
    // Still running: nothing to resume.
    const early = await api(stack, 'POST', `/runs/${runId}/resume`);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('InvalidRunTransition');

    // The execution is stopped behind Maestro's back (as a workflow that failed after its retries would be): the run is stranded.
    const executionArn = `${stack.runStateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator.Stopped', cause: 'stopped outside Maestro' }));
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('ABORTED');
    await sleep(800);
    const stranded = (await api(stack, 'GET', `/runs/${runId}`)).body.run;
    expect(stranded.finishedAt).toBeUndefined();
    expect(await versionsOf('exactly-once/resume-b.txt')).toHaveLength(0);

    expect((await api(stack, 'POST', `/runs/${runId}/resume`, { token: 'dev-approver' })).status).toBe(403);
    const resumed = await api(stack, 'POST', `/runs/${runId}/resume`);
    expect(resumed.status).toBe(202);
    expect(resumed.body).toMatchObject({ runId, workflow: 'redriven' });
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(await versionsOf('exactly-once/resume-a.txt')).toHaveLength(1);
    expect(await versionsOf('exactly-once/resume-b.txt')).toHaveLength(1);
    const events = await eventsOf(runId);
    expect(count(events, 'TaskApplying', 0)).toBe(1);
    expect(count(events, 'TaskApplied', 2)).toBe(1);
    expect(count(events, 'RunResumed')).toBe(1);
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    expect(history.events!.filter((event) => event.type === 'ExecutionRedriven')).toHaveLength(1);

    // A finished run has nothing to resume; an unknown one is a 404.
    expect((await api(stack, 'POST', `/runs/${runId}/resume`)).status).toBe(409);
    expect((await api(stack, 'POST', '/runs/no-such-run/resume')).status).toBe(404);
  });
});
