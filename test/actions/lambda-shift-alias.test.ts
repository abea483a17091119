import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, LambdaClient, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaShiftAlias } from '../../functions/actions/lambda-shift-alias.ts';
import { CloudWatchAlarmReader } from '../../functions/adapters/cloudwatch-alarm-reader.ts';
import { LambdaAliasStore } from '../../functions/adapters/lambda-alias-store.ts';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import type { AlarmReader, AliasStore } from '../../functions/core/actions/target-ports.ts';
import { ActionFailed, DeploymentAlarm, StalePlan, VerificationFailed } from '../../functions/core/errors.ts';
import { startTargetEmulators } from '../../local/targets/target-emulators.ts';
import type { RunningTargetEmulators } from '../../local/targets/target-emulators.ts';
import { DEMO_ALARM, DEMO_ALIAS, DEMO_FUNCTION, demoZip, ensureDemoTargets } from '../../local/targets/demo-targets.ts';

let dataDir: string;
let emulators: RunningTargetEmulators;
let lambda: LambdaClient;
let cloudwatch: CloudWatchClient;
let ctx: ActionContext;
/** Every UpdateAlias the action sent, as the alias read back after it (the stand-in keeps no history). */
let updates: { primary: string; weights: Record<string, number> }[];

const options = (endpoint: string) => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
const alias = async () => lambda.send(new GetAliasCommand({ FunctionName: DEMO_FUNCTION, Name: DEMO_ALIAS }));
const setAlias = (version: string, weights: Record<string, number> = {}) =>
  lambda.send(
    new UpdateAliasCommand({ FunctionName: DEMO_FUNCTION, Name: DEMO_ALIAS, FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: weights } }),
  );
const setAlarm = (state: 'OK' | 'ALARM', alarmName = DEMO_ALARM) =>
  cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: state, StateReason: state === 'ALARM' ? 'Errors >= 1 (test)' : 'test: quiet' }));
const params = (overrides: Record<string, unknown> = {}) =>
  lambdaShiftAlias.schema.parse({ functionName: DEMO_FUNCTION, aliasName: DEMO_ALIAS, targetVersion: '2', bakeSeconds: 1, alarms: [DEMO_ALARM], ...overrides });
const context = (overrides: Partial<ActionContext> = {}): ActionContext => ({ ...ctx, ...overrides });

async function refusal(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('accepted');
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'maestro-shift-alias-'));
  emulators = await startTargetEmulators({ dataDir });
  lambda = new LambdaClient(options(emulators.endpoints.lambda));
  cloudwatch = new CloudWatchClient(options(emulators.endpoints.cloudwatch));
  await ensureDemoTargets({ lambda, cloudwatch });
  // A third version, for the second shift.
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: DEMO_FUNCTION, ZipFile: demoZip('v3') }));
  await lambda.send(new PublishVersionCommand({ FunctionName: DEMO_FUNCTION }));
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'maestro-demo-latency',
      MetricName: 'Duration',
      Namespace: 'AWS/Lambda',
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  const aliases = new LambdaAliasStore(lambda);
  // Records each routing the action sets, read back from the stand-in right after.
  const recording: AliasStore = {
    getAlias: (functionName, aliasName) => aliases.getAlias(functionName, aliasName),
    listVersions: (functionName) => aliases.listVersions(functionName),
    setRouting: async (request) => {
      const result = await aliases.setRouting(request);
      const read = await alias();
      updates.push({ primary: read.FunctionVersion!, weights: { ...read.RoutingConfig?.AdditionalVersionWeights } });
      return result;
    },
  };
  ctx = {
    objects: undefined as never,
    items: undefined as never,
    aliases: recording,
    alarms: new CloudWatchAlarmReader(cloudwatch),
    runId: 'run-1',
    taskIndex: 0,
    idempotencyKey: 'run-1#0',
    attempt: 1,
  };
});

afterAll(async () => {
  lambda?.destroy();
  cloudwatch?.destroy();
  await emulators?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  updates = [];
  await setAlias('1');
  await setAlarm('OK');
  updates = [];
});

describe('lambda.shift-alias params', () => {
  it('defaults to 10 → 50 → 100 and refuses steps that do not climb to 100, or bakes past the budget, naming the field', () => {
    expect(params({ steps: undefined }).steps).toEqual([10, 50, 100]);
    const issue = (overrides: Record<string, unknown>) => lambdaShiftAlias.schema.safeParse({ ...params(), ...overrides }).error?.issues[0];
    expect(issue({ steps: [50, 10, 100] })?.path).toEqual(['steps']);
    expect(issue({ steps: [10, 50] })?.message).toBe('must end at 100');
    expect(issue({ steps: [10, 50, 100], bakeSeconds: 100 })?.path).toEqual(['bakeSeconds']);
    expect(issue({ targetVersion: '$LATEST' })?.path).toEqual(['targetVersion']);
    expect(lambdaShiftAlias.resources(params())).toEqual([
      { uri: 'lambda://maestro-demo-fn:live', access: 'write' },
      { uri: 'cloudwatch-alarm://maestro-demo-errors', access: 'read' },
    ]);
  });
});

describe('lambda.shift-alias against the Lambda and CloudWatch stand-ins (real SDK clients)', () => {
  it('plans without changing anything: preconditions, the routing before and after, and the steps', async () => {
    const before = await alias();
    const plan = await lambdaShiftAlias.plan(params(), context());
    expect(plan).toMatchObject({
      change: 'update',
      resource: 'lambda://maestro-demo-fn:live',
      preconditions: { revisionId: before.RevisionId, primaryVersion: '1' },
      data: { originalVersion: '1', targetVersion: '2', steps: [10, 50, 100] },
    });
    expect(plan.diff).toContain('-version 1: 100%');
    expect(plan.diff).toContain('+step 1: version 2: 10%, bake 1 s');
    expect(plan.diff).toContain('+version 2: 100%');
    expect(updates).toEqual([]);
    expect((await alias()).RevisionId).toBe(before.RevisionId);
  });

  it('plans a no-op when the alias is on the target already, and refuses a missing version, alias or alarm, or a firing alarm, naming the field', async () => {
    await setAlias('2');
    const none = await lambdaShiftAlias.plan(params(), context());
    expect(none.change).toBe('none');
    expect(await lambdaShiftAlias.apply(none, context())).toMatchObject({ unchanged: true });
    expect(updates).toEqual([]);
    await setAlias('1');
    expect(await refusal(() => lambdaShiftAlias.plan(params({ targetVersion: '9' }), context()))).toMatchObject({
      name: 'ActionFailed',
      field: 'targetVersion',
    });
    expect(await refusal(() => lambdaShiftAlias.plan(params({ aliasName: 'canary' }), context()))).toMatchObject({ name: 'ActionFailed', field: 'aliasName' });
    expect(await refusal(() => lambdaShiftAlias.plan(params({ alarms: ['nope'] }), context()))).toMatchObject({ name: 'ActionFailed', field: 'alarms' });
    await setAlarm('ALARM');
    expect(await refusal(() => lambdaShiftAlias.plan(params(), context()))).toBeInstanceOf(ActionFailed);
  });

  it('shifts 10 → 50 → 100, ends with the target primary and no weights, verifies, and a second apply changes nothing', async () => {
    const plan = await lambdaShiftAlias.plan(params(), context());
    const outcome = await lambdaShiftAlias.apply(plan, context());
    expect(updates).toEqual([
      { primary: '1', weights: { '2': 0.1 } },
      { primary: '1', weights: { '2': 0.5 } },
      { primary: '2', weights: {} },
    ]);
    expect((outcome.steps as { percent: number }[]).map((step) => step.percent)).toEqual([10, 50, 100]);
    await lambdaShiftAlias.verify(plan, outcome, context());
    const after = await alias();
    // The same task replayed (a crash after the last step): recognised by the routing, nothing sent.
    expect(await lambdaShiftAlias.apply(plan, context({ attempt: 2 }))).toMatchObject({ replayed: true });
    expect(updates).toHaveLength(3);
    expect((await alias()).RevisionId).toBe(after.RevisionId);
  });

  it('resumes a crashed apply from the step the alias is at', async () => {
    const plan = await lambdaShiftAlias.plan(params(), context());
    // The first attempt got to 50 % and died.
    await setAlias('1', { '2': 0.5 });
    updates = [];
    const outcome = await lambdaShiftAlias.apply(plan, context({ attempt: 2 }));
    expect(outcome).toMatchObject({ resumedAtStep: 2 });
    expect(updates).toEqual([
      { primary: '1', weights: { '2': 0.5 } },
      { primary: '2', weights: {} },
    ]);
  });

  it('refuses with StalePlan when the alias moved since the plan, and writes nothing', async () => {
    const plan = await lambdaShiftAlias.plan(params(), context());
    await setAlias('3');
    await setAlias('1'); // back where it was, but a new revision: someone touched it
    updates = [];
    expect(await refusal(() => lambdaShiftAlias.apply(plan, context()))).toBeInstanceOf(StalePlan);
    // On a replay, an alias some other change put elsewhere is refused too.
    await setAlias('3');
    expect(await refusal(() => lambdaShiftAlias.apply(plan, context({ attempt: 2 })))).toBeInstanceOf(StalePlan);
    expect(updates).toEqual([]);
    expect((await alias()).FunctionVersion).toBe('3');
  });

  it('an alarm in ALARM during a bake moves the alias back and fails with DeploymentAlarm naming the alarm', async () => {
    const plan = await lambdaShiftAlias.plan(params({ bakeSeconds: 2, alarms: ['maestro-demo-latency', DEMO_ALARM] }), context());
    // Operators fire the alarm while the first step bakes (after its routing was set).
    const alarms: AlarmReader = new CloudWatchAlarmReader(cloudwatch);
    let reads = 0;
    const firingAfterFirstRead: AlarmReader = {
      read: async (names) => {
        reads += 1;
        if (reads === 2) await setAlarm('ALARM');
        return alarms.read(names);
      },
    };
    const error = await refusal(() => lambdaShiftAlias.apply(plan, context({ alarms: firingAfterFirstRead })));
    expect(error).toBeInstanceOf(DeploymentAlarm);
    expect(error.message).toContain(`alarm ${DEMO_ALARM} is ALARM at step 1`);
    expect((error as DeploymentAlarm).details).toMatchObject({ alarm: DEMO_ALARM, state: 'ALARM', reason: 'Errors >= 1 (test)', step: 10, movedBack: true });
    expect(updates).toEqual([
      { primary: '1', weights: { '2': 0.1 } },
      { primary: '1', weights: {} },
    ]);
    // The run's rollback then finds it home and sends nothing.
    await lambdaShiftAlias.rollback(plan, undefined, context());
    expect(updates).toHaveLength(2);
  });

  it('honours the time budget: an aborted signal ends the bake', async () => {
    const plan = await lambdaShiftAlias.plan(params({ steps: [100], bakeSeconds: 60 }), context());
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('budget spent')), 200);
    const error = await refusal(() => lambdaShiftAlias.apply(plan, context({ signal: controller.signal })));
    expect(error.name).toBe('AbortError');
    expect(updates).toHaveLength(1);
  });

  it('verify fails on an alias not on the target or a firing alarm; rollback puts the original version back only from a routing of its own', async () => {
    const plan = await lambdaShiftAlias.plan(params(), context());
    expect(await refusal(() => lambdaShiftAlias.verify(plan, {}, context()))).toBeInstanceOf(VerificationFailed);
    // Mid-shift (a budget ran out at 50 %): rollback moves it back, read back to compare.
    await setAlias('1', { '2': 0.5 });
    await lambdaShiftAlias.rollback(plan, undefined, context());
    const home = await alias();
    expect(home.FunctionVersion).toBe('1');
    expect(home.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    // Fully shifted, then a firing alarm: verify fails, rollback restores version 1.
    await setAlias('2');
    await setAlarm('ALARM');
    expect((await refusal(() => lambdaShiftAlias.verify(plan, {}, context()))).message).toContain(DEMO_ALARM);
    await lambdaShiftAlias.rollback(plan, {}, context());
    expect((await alias()).FunctionVersion).toBe('1');
    // Someone moved it to version 3: not ours, left alone.
    await setAlias('3');
    updates = [];
    await lambdaShiftAlias.rollback(plan, {}, context());
    expect(updates).toEqual([]);
    expect((await alias()).FunctionVersion).toBe('3');
  });

  it('refuses to run without the ports (the control plane has none)', async () => {
    expect(await refusal(() => lambdaShiftAlias.plan(params(), context({ aliases: undefined })))).toBeInstanceOf(ActionFailed);
  });
});
