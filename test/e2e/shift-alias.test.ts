import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, LambdaClient, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { DEMO_ALARM, DEMO_ALIAS, DEMO_FUNCTION, demoZip } from '../../local/targets/demo-targets.ts';
import { api, startTestStack, until, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

let stack: EmbeddedStack;
let lambda: LambdaClient;
let cloudwatch: CloudWatchClient;

beforeAll(async () => {
  stack = await startTestStack('shift-alias');
  // The SDK reads the stand-ins' endpoints from the variables startTestStack set (AWS_ENDPOINT_URL_LAMBDA, ...).
  lambda = new LambdaClient({});
  cloudwatch = new CloudWatchClient({});
});
afterAll(async () => {
  lambda?.destroy();
  cloudwatch?.destroy();
  await stack?.stop();
});

const alias = () => lambda.send(new GetAliasCommand({ FunctionName: DEMO_FUNCTION, Name: DEMO_ALIAS }));
const events = async (runId: string) => (await api(stack, 'GET', `/runs/${runId}/events`)).body.events as { type: string; message: string; payload?: any }[];

async function parkedShift(targetVersion: string, bakeSeconds: number) {
  const created = await api(stack, 'POST', '/runs', {
    body: {
      goal: `canary maestro-demo-fn onto version ${targetVersion}`,
      mode: 'APPLY',
      environment: 'prod',
      reasonForAccess: 'shift-alias end-to-end test',
      tasks: [
        {
          action: 'lambda.shift-alias',
          params: { functionName: DEMO_FUNCTION, aliasName: DEMO_ALIAS, targetVersion, steps: [10, 50, 100], bakeSeconds, alarms: [DEMO_ALARM] },
        },
      ],
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const runId = created.body.runId as string;
  const parked = await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL' || Boolean(run.finishedAt), 'parked for approval');
  expect(parked.status).toBe('AWAITING_APPROVAL');
  return runId;
}

describe('lambda.shift-alias through the run workflow on the embedded stack', () => {
  it('a prod shift parks for approval, is approved, shifts 10 → 50 → 100 and succeeds', async () => {
    expect((await alias()).FunctionVersion).toBe('1');
    const runId = await parkedShift('2', 1);
    // Nothing moved while it waits.
    expect(await alias()).toMatchObject({ FunctionVersion: '1' });
    const approved = await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: { comment: 'canary plan checked' } });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);

    const run = await waitForRun(stack, runId, 60_000);
    expect(run.status).toBe('SUCCEEDED');
    const current = await alias();
    expect(current.FunctionVersion).toBe('2');
    expect(current.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    const applied = (await events(runId)).find((event) => event.type === 'TaskApplied')!;
    expect(applied.payload.outcome.steps.map((step: { percent: number }) => step.percent)).toEqual([10, 50, 100]);
    expect(applied.payload.outcome.revisionId).toBe(current.RevisionId);
  });

  it('an alarm set to ALARM mid-bake ends the run ROLLED_BACK, the alias back on the old version, the events naming the alarm', async () => {
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: DEMO_FUNCTION, ZipFile: demoZip('maestro-demo-fn v3') }));
    expect((await lambda.send(new PublishVersionCommand({ FunctionName: DEMO_FUNCTION }))).Version).toBe('3');
    const runId = await parkedShift('3', 2);
    expect((await api(stack, 'POST', `/runs/${runId}/approve`, { token: 'dev-approver', body: {} })).status).toBe(200);

    // The first step is live (10 % on version 3): an operator fires the alarm, as in AWS.
    await until(async () => (await alias()).RoutingConfig?.AdditionalVersionWeights?.['3'] === 0.1, 'the first step of the shift', 60_000);
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: DEMO_ALARM, StateValue: 'ALARM', StateReason: 'Errors >= 1 for 1 datapoint (operator test)' }));

    const run = await waitForRun(stack, runId, 60_000);
    expect(run.status).toBe('ROLLED_BACK');
    const current = await alias();
    expect(current.FunctionVersion).toBe('2');
    expect(current.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    const trail = await events(runId);
    const failed = trail.find((event) => event.type === 'TaskFailed')!;
    expect(failed.message).toContain(`alarm ${DEMO_ALARM} is ALARM`);
    expect(failed.payload.error.name).toBe('DeploymentAlarm');
    expect(trail.find((event) => event.type === 'RollbackStarted')!.message).toContain(DEMO_ALARM);
    expect(trail.map((event) => event.type)).toContain('TaskRolledBack');
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: DEMO_ALARM, StateValue: 'OK', StateReason: 'test over' }));
  });
});
