import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinition, startLocalStepFunctions } from '../../../local/sfn/local-step-functions.ts';
import type { LocalLambda, LocalStepFunctionsOptions, RunningLocalStepFunctions } from '../../../local/sfn/local-step-functions.ts';

const RUN_ASL = join(import.meta.dirname, '../../../statemachines/run.asl.json');
const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'local-sfn-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Endpoint {
  sfn: RunningLocalStepFunctions;
  client: SFNClient;
}

async function endpoint(options: Partial<LocalStepFunctionsOptions> & Pick<LocalStepFunctionsOptions, 'stateMachines' | 'lambdas'>): Promise<Endpoint> {
  const sfn = await startLocalStepFunctions({ dataDir: options.dataDir ?? tempDir(), ...options });
  const client = new SFNClient({ endpoint: sfn.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  cleanups.push(async () => {
    client.destroy();
    await sfn.stop();
  });
  return { sfn, client };
}

/** A one-machine endpoint named `M` over an inline definition. */
async function machine(definition: object, lambdas: Record<string, LocalLambda>, extra: Partial<LocalStepFunctionsOptions> = {}) {
  const ep = await endpoint({ stateMachines: [{ name: 'M', definition: JSON.stringify(definition) }], lambdas, ...extra });
  const start = async (input: unknown = {}, name?: string) =>
    (await ep.client.send(new StartExecutionCommand({ stateMachineArn: ep.sfn.stateMachineArn('M'), input: JSON.stringify(input), name }))).executionArn!;
  const describe = (executionArn: string) => ep.client.send(new DescribeExecutionCommand({ executionArn }));
  const history = async (executionArn: string) => (await ep.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
  const finish = async (executionArn: string) => {
    await ep.sfn.idle();
    return describe(executionArn);
  };
  return { ...ep, start, describe, history, finish };
}

function task(functionName: string, next: { Next: string } | { End: true }, extra: object = {}) {
  return { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: functionName, 'Payload.$': '$' }, ...extra, ...next };
}

function callbackTask(functionName: string, next: { Next: string } | { End: true }, extra: object = {}) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: { FunctionName: functionName, Payload: { 'token.$': '$$.Task.Token', 'input.$': '$' } },
    ...extra,
    ...next,
  };
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** A promise plus its resolver, for handing values from a lambda to the test. */
function signal<T>() {
  return Promise.withResolvers<T>();
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const stateNames = (events: HistoryEvent[], suffix: 'StateEntered' | 'StateExited') =>
  events
    .filter((event) => event.type?.endsWith(suffix))
    .map((event) => (suffix === 'StateEntered' ? event.stateEnteredEventDetails?.name : event.stateExitedEventDetails?.name));

describe('Lambda tasks', () => {
  it('gives lambda:invoke the Lambda integration output shape, so ResultSelector on $.Payload works', async () => {
    const payloads: unknown[] = [];
    const m = await machine(
      {
        StartAt: 'Add',
        States: { Add: task(fn('add'), { End: true }, { ResultSelector: { 'sum.$': '$.Payload.sum', 'status.$': '$.StatusCode', 'raw.$': '$' } }) },
      },
      {
        [fn('add')]: async (payload) => {
          payloads.push(payload);
          const { a, b } = payload as { a: number; b: number };
          return { sum: a + b };
        },
      },
    );
    const execution = await m.finish(await m.start({ a: 2, b: 3 }));
    expect(execution.status).toBe('SUCCEEDED');
    expect(payloads).toEqual([{ a: 2, b: 3 }]);
    const output = JSON.parse(execution.output!);
    expect(output.sum).toBe(5);
    expect(output.status).toBe(200);
    expect(output.raw).toMatchObject({
      ExecutedVersion: '$LATEST',
      Payload: { sum: 5 },
      StatusCode: 200,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: expect.any(String) },
    });
  });

  it('runs a plain function ARN resource with the state input and its result as is', async () => {
    const m = await machine(
      { StartAt: 'Double', States: { Double: { Type: 'Task', Resource: fn('double'), End: true } } },
      { [fn('double')]: async (payload) => ({ n: (payload as { n: number }).n * 2 }) },
    );
    const arn = await m.start({ n: 21 });
    const execution = await m.finish(arn);
    expect(JSON.parse(execution.output!)).toEqual({ n: 42 });
    const types = (await m.history(arn)).map((event) => event.type);
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('retries on a named error, then succeeds', async () => {
    let calls = 0;
    const m = await machine(
      {
        StartAt: 'Flaky',
        States: {
          Flaky: task(
            fn('flaky'),
            { End: true },
            { Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 1, MaxAttempts: 3, JitterStrategy: 'FULL' }], OutputPath: '$.Payload' },
          ),
        },
      },
      {
        [fn('flaky')]: async () => {
          calls++;
          if (calls < 2) throw namedError('TransientError', 'try again');
          return { attempt: calls };
        },
      },
    );
    const arn = await m.start();
    const execution = await m.finish(arn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ attempt: 2 });
    const types = (await m.history(arn)).map((event) => event.type);
    expect(types.filter((type) => type === 'TaskScheduled')).toHaveLength(2);
    expect(types).toContain('TaskFailed');
  });

  it('routes a thrown error by its name through Catch, with the message as Cause', async () => {
    const m = await machine(
      {
        StartAt: 'Charge',
        States: {
          Charge: task(
            fn('charge'),
            { Next: 'Charged' },
            {
              Catch: [
                { ErrorEquals: ['Other'], Next: 'Wrong' },
                { ErrorEquals: ['PaymentDeclined'], ResultPath: '$.error', Next: 'Declined' },
              ],
            },
          ),
          Charged: { Type: 'Succeed' },
          Wrong: { Type: 'Fail', Error: 'Wrong' },
          Declined: { Type: 'Pass', End: true },
        },
      },
      {
        [fn('charge')]: async () => {
          throw namedError('PaymentDeclined', 'card expired');
        },
      },
    );
    const arn = await m.start({ order: 1 });
    const execution = await m.finish(arn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ order: 1, error: { Error: 'PaymentDeclined', Cause: 'card expired' } });
    const failed = (await m.history(arn)).find((event) => event.type === 'TaskFailed');
    expect(failed?.taskFailedEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', error: 'PaymentDeclined', cause: 'card expired' });
  });

  it('fails the task with Lambda.ResourceNotFoundException for an unknown function', async () => {
    const m = await machine({ StartAt: 'Ghost', States: { Ghost: task(fn('ghost'), { End: true }) } }, {});
    const execution = await m.finish(await m.start());
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Lambda.ResourceNotFoundException');
    expect(execution.cause).toContain('ghost');
  });
});

describe('waitForTaskToken', () => {
  it('resumes with the SendTaskSuccess output, even when sent before the lambda returns', async () => {
    let ep: Endpoint | undefined;
    const payloads: unknown[] = [];
    const m = await machine(
      { StartAt: 'Ask', States: { Ask: callbackTask(fn('ask'), { End: true }, { ResultPath: '$.answer' }) } },
      {
        [fn('ask')]: async (payload) => {
          payloads.push(payload);
          const { token } = payload as { token: string };
          await ep!.client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }));
          return 'ignored';
        },
      },
    );
    ep = m;
    const arn = await m.start({ q: 1 });
    const execution = await m.finish(arn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ q: 1, answer: { approved: true } });
    const { token } = payloads[0] as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const types = (await m.history(arn)).map((event) => event.type);
    expect(types).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
  });

  it('gives every task its own token, also for concurrent Map iterations', async () => {
    const tokens = new Map<number, string>();
    const m = await machine(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            MaxConcurrency: 3,
            ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Ask', States: { Ask: callbackTask(fn('ask'), { End: true }) } },
            End: true,
          },
        },
      },
      {
        [fn('ask')]: async (payload) => {
          const { token, input } = payload as { token: string; input: number };
          tokens.set(input, token);
        },
      },
    );
    const arn = await m.start({ items: [1, 2, 3] });
    await until(() => tokens.size === 3);
    expect(new Set(tokens.values()).size).toBe(3);
    // Answer out of order: each answer must land in its own iteration.
    for (const item of [3, 1, 2]) {
      await m.client.send(new SendTaskSuccessCommand({ taskToken: tokens.get(item)!, output: JSON.stringify({ item }) }));
    }
    const execution = await m.finish(arn);
    expect(JSON.parse(execution.output!)).toEqual([{ item: 1 }, { item: 2 }, { item: 3 }]);
  });

  it('fails the task with the SendTaskFailure error, which Catch matches by name', async () => {
    const token = signal<string>();
    const m = await machine(
      {
        StartAt: 'Ask',
        States: {
          Ask: callbackTask(fn('ask'), { Next: 'Approved' }, { Catch: [{ ErrorEquals: ['Rejected'], ResultPath: '$.why', Next: 'WasRejected' }] }),
          Approved: { Type: 'Succeed' },
          WasRejected: { Type: 'Pass', End: true },
        },
      },
      { [fn('ask')]: async (payload) => token.resolve((payload as { token: string }).token) },
    );
    const arn = await m.start();
    await m.client.send(new SendTaskFailureCommand({ taskToken: await token.promise, error: 'Rejected', cause: 'not today' }));
    const execution = await m.finish(arn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!).why).toEqual({ Error: 'Rejected', Cause: 'not today' });
    expect(stateNames(await m.history(arn), 'StateEntered')).toEqual(['Ask', 'WasRejected']);
  });

  it('times out after TimeoutSeconds with States.Timeout; the token then reports TaskTimedOut', async () => {
    const token = signal<string>();
    const m = await machine(
      { StartAt: 'Ask', States: { Ask: callbackTask(fn('ask'), { End: true }, { TimeoutSeconds: 1 }) } },
      { [fn('ask')]: async (payload) => token.resolve((payload as { token: string }).token) },
    );
    const arn = await m.start();
    const started = Date.now();
    const execution = await m.finish(arn);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.Timeout');
    expect((await m.history(arn)).map((event) => event.type)).toContain('TaskTimedOut');
    await expect(m.client.send(new SendTaskSuccessCommand({ taskToken: await token.promise, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('keeps waiting while heartbeats arrive, and fails with States.HeartbeatTimeout when they stop', async () => {
    const token = signal<string>();
    const m = await machine(
      { StartAt: 'Ask', States: { Ask: callbackTask(fn('ask'), { End: true }, { TimeoutSeconds: 30, HeartbeatSeconds: 1 }) } },
      { [fn('ask')]: async (payload) => token.resolve((payload as { token: string }).token) },
    );
    const arn = await m.start();
    const taskToken = await token.promise;
    const started = Date.now();
    // 1.8 s of heartbeats every 0.45 s: well past HeartbeatSeconds, so only the heartbeats keep it alive.
    while (Date.now() - started < 1800) {
      await new Promise((resolve) => setTimeout(resolve, 450));
      await m.client.send(new SendTaskHeartbeatCommand({ taskToken }));
    }
    expect((await m.describe(arn)).status).toBe('RUNNING');
    const execution = await m.finish(arn);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.HeartbeatTimeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2700);
  }, 10_000);

  it('refuses a duplicate SendTaskSuccess and resumes the state only once', async () => {
    const token = signal<string>();
    let after = 0;
    const m = await machine(
      { StartAt: 'Ask', States: { Ask: callbackTask(fn('ask'), { Next: 'After' }), After: task(fn('after'), { End: true }) } },
      { [fn('ask')]: async (payload) => token.resolve((payload as { token: string }).token), [fn('after')]: async () => ++after },
    );
    const arn = await m.start();
    const taskToken = await token.promise;
    const send = () => m.client.send(new SendTaskSuccessCommand({ taskToken, output: '{"ok":true}' }));
    const results = await Promise.allSettled([send(), send()]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((result) => result.status === 'rejected')).toMatchObject({ reason: { name: 'TaskDoesNotExist' } });
    await expect(send()).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
    expect((await m.finish(arn)).status).toBe('SUCCEEDED');
    expect(after).toBe(1);
    expect(stateNames(await m.history(arn), 'StateEntered')).toEqual(['Ask', 'After']);
  });

  it('answers TaskDoesNotExist for a token it never issued', async () => {
    const m = await machine({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, {});
    await expect(m.client.send(new SendTaskSuccessCommand({ taskToken: 'made-up', output: '{}' }))).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
    await expect(m.client.send(new SendTaskHeartbeatCommand({ taskToken: 'made-up' }))).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
  });
});

describe('execution timeout', () => {
  it('ends TIMED_OUT when the definition TimeoutSeconds passes, and cancels the pending wait', async () => {
    const token = signal<string>();
    const m = await machine(
      { TimeoutSeconds: 1, StartAt: 'Ask', States: { Ask: callbackTask(fn('ask'), { End: true }) } },
      { [fn('ask')]: async (payload) => token.resolve((payload as { token: string }).token) },
    );
    const arn = await m.start();
    const execution = await m.finish(arn);
    expect(execution).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect((await m.history(arn)).at(-1)?.type).toBe('ExecutionTimedOut');
    await expect(m.client.send(new SendTaskSuccessCommand({ taskToken: await token.promise, output: '{}' }))).rejects.toMatchObject({
      name: 'TaskDoesNotExist',
    });
  });
});

describe('StopExecution', () => {
  it('aborts a waiting execution: ABORTED, its token invalid, nothing after it runs', async () => {
    const token = signal<string>();
    let after = 0;
    const m = await machine(
      {
        StartAt: 'Ask',
        States: {
          Ask: callbackTask(fn('ask'), { Next: 'After' }, { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'After' }] }),
          After: task(fn('after'), { End: true }),
        },
      },
      { [fn('ask')]: async (payload) => token.resolve((payload as { token: string }).token), [fn('after')]: async () => ++after },
    );
    const arn = await m.start();
    const taskToken = await token.promise;
    const { stopDate } = await m.client.send(new StopExecutionCommand({ executionArn: arn, error: 'Operator', cause: 'changed my mind' }));
    expect(stopDate).toBeInstanceOf(Date);
    await expect(m.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' }))).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
    const execution = await m.finish(arn);
    expect(execution).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'changed my mind' });
    expect(after).toBe(0);
    const events = await m.history(arn);
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionAborted', executionAbortedEventDetails: { error: 'Operator', cause: 'changed my mind' } });
  });
});

describe('the API', () => {
  const twoStates = { StartAt: 'Echo', States: { Echo: task(fn('echo'), { Next: 'Done' }, { OutputPath: '$.Payload' }), Done: { Type: 'Pass', End: true } } };

  it('makes StartExecution idempotent by name while running; a different input or a closed execution is ExecutionAlreadyExists', async () => {
    const release = signal<void>();
    const m = await machine(twoStates, {
      [fn('echo')]: async (payload) => {
        await release.promise;
        return payload;
      },
    });
    const first = await m.start({ a: 1 }, 'order-1');
    expect(await m.start({ a: 1 }, 'order-1')).toBe(first);
    await expect(m.start({ a: 2 }, 'order-1')).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    release.resolve();
    expect((await m.finish(first)).status).toBe('SUCCEEDED');
    // AWS Standard workflows: a closed execution's name cannot be reused, whatever the input.
    await expect(m.start({ a: 1 }, 'order-1')).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    const listed = await m.client.send(new ListExecutionsCommand({ stateMachineArn: m.sfn.stateMachineArn('M') }));
    expect(listed.executions?.map((execution) => execution.name)).toEqual(['order-1']);
  });

  it('describes executions and pages their history in the AWS shapes', async () => {
    const m = await machine(twoStates, { [fn('echo')]: async (payload) => payload });
    const before = Date.now();
    const arn = await m.start({ hello: 'world' }, 'shapes');
    expect(arn).toBe('arn:aws:states:us-east-1:000000000000:execution:M:shapes');
    const execution = await m.finish(arn);
    expect(execution).toMatchObject({
      executionArn: arn,
      stateMachineArn: m.sfn.stateMachineArn('M'),
      name: 'shapes',
      status: 'SUCCEEDED',
      input: '{"hello":"world"}',
      output: '{"hello":"world"}',
    });
    expect(execution.startDate!.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(execution.stopDate!.getTime()).toBeGreaterThanOrEqual(execution.startDate!.getTime());

    const all = await m.history(arn);
    expect(all.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(all.map((event) => event.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(all[0]).toMatchObject({ previousEventId: 0, executionStartedEventDetails: { input: '{"hello":"world"}' } });
    expect(all[0].timestamp).toBeInstanceOf(Date);
    expect(all[1].stateEnteredEventDetails).toEqual({ name: 'Echo', input: '{"hello":"world"}', inputDetails: { truncated: false } });
    expect(JSON.parse(all[2].taskScheduledEventDetails!.parameters!)).toEqual({ FunctionName: fn('echo'), Payload: { hello: 'world' } });
    expect(all[7].stateExitedEventDetails).toMatchObject({ name: 'Done', output: '{"hello":"world"}' });
    expect(all[8].executionSucceededEventDetails?.output).toBe('{"hello":"world"}');

    const pages: HistoryEvent[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await m.client.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 4, nextToken, reverseOrder: true }));
      pages.push(page.events!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(pages.map((page) => page.length)).toEqual([4, 4, 1]);
    expect(pages.flat().map((event) => event.id)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('reports AWS errors for unknown executions, machines, bad input and unknown operations', async () => {
    const m = await machine(twoStates, { [fn('echo')]: async (payload) => payload });
    await expect(m.describe('arn:aws:states:us-east-1:000000000000:execution:M:nope')).rejects.toMatchObject({
      name: 'ExecutionDoesNotExist',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      m.client.send(new GetExecutionHistoryCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:M:nope' })),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(m.client.send(new StartExecutionCommand({ stateMachineArn: m.sfn.stateMachineArn('Other') }))).rejects.toMatchObject({
      name: 'StateMachineDoesNotExist',
    });
    await expect(m.client.send(new StartExecutionCommand({ stateMachineArn: m.sfn.stateMachineArn('M'), input: '{not json' }))).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
    await expect(m.client.send(new StartExecutionCommand({ stateMachineArn: m.sfn.stateMachineArn('M'), name: 'has space' }))).rejects.toMatchObject({
      name: 'InvalidName',
    });

    const post = (target: string, body: string) =>
      fetch(m.sfn.url, { method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': target }, body }).then(async (response) => ({
        status: response.status,
        body: await response.json(),
      }));
    expect(await post('AWSStepFunctions.CreateStateMachine', '{}')).toMatchObject({ status: 400, body: { __type: 'UnknownOperationException' } });
    expect(await post('AWSStepFunctions.DescribeExecution', '{"executionArn": ')).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
    expect(await post('AWSStepFunctions.DescribeExecution', '[]')).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
    expect(await post('AWSStepFunctions.DescribeExecution', '{}')).toMatchObject({ status: 400, body: { __type: 'ValidationException' } });
    // Still serving after all of that.
    expect((await m.finish(await m.start({ still: 'up' }))).status).toBe('SUCCEEDED');
  });

  it('reports every recorded event to onStateEvent, in order', async () => {
    const seen: { type: string; stateName: string; output?: unknown }[] = [];
    const m = await machine(
      twoStates,
      { [fn('echo')]: async (payload) => payload },
      { onStateEvent: ({ type, stateName, output }) => seen.push({ type, stateName, output }) },
    );
    const arn = await m.start({ n: 1 });
    await m.finish(arn);
    expect(seen.map((event) => event.type)).toEqual((await m.history(arn)).map((event) => event.type));
    expect(seen).toContainEqual({ type: 'TaskStateExited', stateName: 'Echo', output: { n: 1 } });
    expect(seen.at(-1)).toMatchObject({ type: 'ExecutionSucceeded', output: { n: 1 } });
  });
});

describe('loadDefinition', () => {
  it('names every placeholder left without a value', () => {
    const file = join(tempDir(), 'm.asl.json');
    writeFileSync(file, JSON.stringify({ a: '${One}', b: '${Two}', c: '${Three}', d: '${!Literal}' }));
    expect(() => loadDefinition(file, { One: 'x' })).toThrow(/\$\{Two\}, \$\{Three\}/);
    expect(JSON.parse(loadDefinition(file, { One: '1', Two: '2', Three: '3' }))).toEqual({ a: '1', b: '2', c: '3', d: '${Literal}' });
  });
});

/** The run workflow (statemachines/run.asl.json) with trivial in-process lambdas that count their calls. */
/** The apply record of the run's last task, as ApplyTask hands it to the workflow (functions/core/runs/applied-record.ts). */
const LAST_APPLY = { taskIndex: 1, attempt: 1, outcome: { versionId: 'v1' }, appliedAt: '2026-12-02T00:00:00.000Z' };

function runWorkflow(options: { verify?: LocalLambda } = {}) {
  const names = ['Admit', 'Plan', 'RequestApproval', 'ApplyTask', 'ApplyInternetTask', 'Verify', 'RollBack', 'Finalize'] as const;
  const calls: Record<string, unknown[]> = Object.fromEntries(names.map((name) => [name, []]));
  const approvalTokens: string[] = [];
  let client: SFNClient | undefined;
  const handlers: Record<(typeof names)[number], LocalLambda> = {
    Admit: async () => ({
      mode: 'APPLY',
      tasks: [
        { taskIndex: 0, actionClass: 'internal' },
        { taskIndex: 1, actionClass: 'internal' },
      ],
    }),
    // A plan that needs a person: the workflow waits for approval.
    Plan: async () => ({ planDigest: 'sha256:abc', changes: 2, approvedByPolicy: false, lockResources: ['s3://bucket/a'] }),
    RequestApproval: async (payload) => {
      const { taskToken } = payload as { taskToken: string };
      approvalTokens.push(taskToken);
      await client!.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ approvedBy: 'ana' }) }));
    },
    // The last task's apply record rides in the state to Verify and Finalize.
    ApplyTask: async (payload) => ({ status: 'APPLIED', deferred: (payload as { taskIndex: number }).taskIndex === 1 ? LAST_APPLY : null }),
    ApplyInternetTask: async () => ({ status: 'APPLIED', deferred: null }),
    // Both tasks passed; their record goes with Finalize's commit, with the last apply's.
    Verify: options.verify ?? (async () => ({ verified: 2, passed: [0, 1], applied: [LAST_APPLY] })),
    RollBack: async () => ({ outcome: 'ROLLED_BACK', error: 'verify failed' }),
    Finalize: async (payload) => ({ status: (payload as { result: { outcome: string } }).result.outcome }),
  };
  const lambdas = Object.fromEntries(
    names.map((name) => [
      fn(name),
      async (payload: unknown) => {
        calls[name].push(payload);
        return handlers[name](payload);
      },
    ]),
  );
  const substitutions = Object.fromEntries(names.map((name) => [`${name}FunctionArn`, fn(name)]));
  const definition = loadDefinition(RUN_ASL, substitutions);
  return {
    calls,
    approvalTokens,
    lambdas,
    stateMachines: [{ name: 'run', definition }],
    useClient: (c: SFNClient) => {
      client = c;
    },
    replaceHandler: (name: (typeof names)[number], handler: LocalLambda) => {
      handlers[name] = handler;
    },
  };
}

const input = { runId: 'run-1', correlationId: 'corr-1' };

describe('statemachines/run.asl.json', () => {
  it('runs APPLY end to end: admit, plan, approval by task token, apply each task, verify, finalize', async () => {
    const wf = runWorkflow();
    const ep = await endpoint({ stateMachines: wf.stateMachines, lambdas: wf.lambdas });
    wf.useClient(ep.client);
    const { executionArn } = await ep.client.send(
      new StartExecutionCommand({ stateMachineArn: ep.sfn.stateMachineArn('run'), name: 'run-1', input: JSON.stringify(input) }),
    );
    await ep.sfn.idle();
    const execution = await ep.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toMatchObject({
      admitted: {
        mode: 'APPLY',
        tasks: [
          { taskIndex: 0, actionClass: 'internal' },
          { taskIndex: 1, actionClass: 'internal' },
        ],
      },
      planned: { planDigest: 'sha256:abc', changes: 2, approvedByPolicy: false, lockResources: ['s3://bucket/a'] },
      approval: { approvedBy: 'ana' },
      verification: { passed: [0, 1], applied: [LAST_APPLY] },
      result: { outcome: 'SUCCEEDED', verified: [0, 1], applied: [LAST_APPLY] },
      final: { status: 'SUCCEEDED' },
    });
    expect(wf.calls.Admit).toEqual([input]);
    expect(wf.calls.RequestApproval).toEqual([{ ...input, planDigest: 'sha256:abc', taskToken: wf.approvalTokens[0] }]);
    expect(wf.calls.ApplyTask).toEqual([
      // Each apply knows its place in the Map (the first takes the locks) and what the plan locks.
      { ...input, taskIndex: 0, actionClass: 'internal', iteration: 0, lockResources: ['s3://bucket/a'], deferLastRecord: true },
      { ...input, taskIndex: 1, actionClass: 'internal', iteration: 1, lockResources: ['s3://bucket/a'], deferLastRecord: true },
    ]);
    // Verify gets the Map's results in task order; Finalize the records Verify left to it.
    expect(wf.calls.Verify).toEqual([
      {
        ...input,
        leaveToFinalize: true,
        applied: [
          { status: 'APPLIED', deferred: null },
          { status: 'APPLIED', deferred: LAST_APPLY },
        ],
      },
    ]);
    expect(wf.calls.RollBack).toEqual([]);
    expect(wf.calls.Finalize).toEqual([{ ...input, result: { outcome: 'SUCCEEDED', verified: [0, 1], applied: [LAST_APPLY] } }]);
    const events = (await ep.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
    expect(stateNames(events, 'StateEntered')).toEqual([
      'Admit',
      'Plan',
      'AfterPlan',
      'AwaitApproval',
      'Apply',
      'ByActionClass',
      'ApplyTask',
      'ByActionClass',
      'ApplyTask',
      'Verify',
      'RecordSuccess',
      'Finalize',
      'DidRunSucceed',
      'Done',
    ]);
    expect(events.filter((event) => event.type === 'MapIterationSucceeded').map((event) => event.mapIterationSucceededEventDetails)).toEqual([
      { name: 'Apply', index: 0 },
      { name: 'Apply', index: 1 },
    ]);
  });

  it('goes from Plan straight to Apply when the plan was approved by policy: no approval wait', async () => {
    const wf = runWorkflow();
    wf.replaceHandler('Plan', async () => ({ planDigest: 'sha256:abc', changes: 2, approvedByPolicy: true, lockResources: [] }));
    const ep = await endpoint({ stateMachines: wf.stateMachines, lambdas: wf.lambdas });
    wf.useClient(ep.client);
    const { executionArn } = await ep.client.send(new StartExecutionCommand({ stateMachineArn: ep.sfn.stateMachineArn('run'), input: JSON.stringify(input) }));
    await ep.sfn.idle();
    expect((await ep.client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('SUCCEEDED');
    expect(wf.calls.RequestApproval).toEqual([]);
    expect(wf.calls.ApplyTask).toHaveLength(2);
    const events = (await ep.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
    expect(stateNames(events, 'StateEntered').slice(0, 4)).toEqual(['Admit', 'Plan', 'AfterPlan', 'Apply']);
  });

  it('rolls back and finalizes when Verify fails, and ends FAILED with RunDidNotSucceed', async () => {
    const wf = runWorkflow({
      verify: async () => {
        throw namedError('VerificationFailed', 'smoke test failed');
      },
    });
    const ep = await endpoint({ stateMachines: wf.stateMachines, lambdas: wf.lambdas });
    wf.useClient(ep.client);
    const { executionArn } = await ep.client.send(new StartExecutionCommand({ stateMachineArn: ep.sfn.stateMachineArn('run'), input: JSON.stringify(input) }));
    await ep.sfn.idle();
    const execution = await ep.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(execution).toMatchObject({ status: 'FAILED', error: 'RunDidNotSucceed' });
    // RollBack gets the Apply map's results: the last apply's record, in case Verify stopped before recording it.
    expect(wf.calls.RollBack).toEqual([
      {
        ...input,
        error: { Error: 'VerificationFailed', Cause: 'smoke test failed' },
        applied: [
          { status: 'APPLIED', deferred: null },
          { status: 'APPLIED', deferred: LAST_APPLY },
        ],
      },
    ]);
    expect(wf.calls.Finalize).toEqual([{ ...input, result: { outcome: 'ROLLED_BACK', error: 'verify failed' } }]);
    const events = (await ep.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
    expect(stateNames(events, 'StateEntered').slice(-5)).toEqual(['Verify', 'RollBack', 'Finalize', 'DidRunSucceed', 'RunDidNotSucceed']);
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionFailed', executionFailedEventDetails: { error: 'RunDidNotSucceed' } });
  });

  it('rolls back with no apply record carried when Apply itself fails', async () => {
    const wf = runWorkflow();
    wf.replaceHandler('ApplyTask', async (payload) => {
      if ((payload as { taskIndex: number }).taskIndex === 1) throw namedError('PreconditionFailed', 'changed since planning');
      return { status: 'APPLIED', deferred: null };
    });
    const ep = await endpoint({ stateMachines: wf.stateMachines, lambdas: wf.lambdas });
    wf.useClient(ep.client);
    const { executionArn } = await ep.client.send(new StartExecutionCommand({ stateMachineArn: ep.sfn.stateMachineArn('run'), input: JSON.stringify(input) }));
    await ep.sfn.idle();
    expect((await ep.client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('FAILED');
    expect(wf.calls.Verify).toEqual([]);
    expect(wf.calls.RollBack).toEqual([{ ...input, error: expect.objectContaining({ Error: 'PreconditionFailed' }), applied: [] }]);
    const events = (await ep.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
    expect(stateNames(events, 'StateEntered').slice(-5)).toEqual(['NothingCarried', 'RollBack', 'Finalize', 'DidRunSucceed', 'RunDidNotSucceed']);
  });
});

describe('durability', () => {
  it('carries a RUNNING execution on after a restart, from the interrupted top-level state, with a new task token', async () => {
    const dataDir = tempDir();
    const wf = runWorkflow();
    const firstToken = signal<string>();
    // First process: the approval request is sent but never answered.
    wf.replaceHandler('RequestApproval', async (payload) => {
      firstToken.resolve((payload as { taskToken: string }).taskToken);
    });
    const first = await startLocalStepFunctions({ dataDir, stateMachines: wf.stateMachines, lambdas: wf.lambdas });
    cleanups.push(() => first.stop());
    const firstClient = new SFNClient({ endpoint: first.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const { executionArn } = await firstClient.send(
      new StartExecutionCommand({ stateMachineArn: first.stateMachineArn('run'), name: 'resume-me', input: JSON.stringify(input) }),
    );
    const staleToken = await firstToken.promise;
    await first.stop();
    firstClient.destroy();
    expect(wf.calls.Admit).toHaveLength(1);
    expect(wf.calls.Plan).toHaveLength(1);

    // Second process on the same data: approvals now answer at once.
    const secondClient = signal<SFNClient>();
    wf.replaceHandler('RequestApproval', async (payload) => {
      const { taskToken } = payload as { taskToken: string };
      wf.approvalTokens.push(taskToken);
      await (await secondClient.promise).send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ approvedBy: 'bo' }) }));
    });
    const ep = await endpoint({ dataDir, stateMachines: wf.stateMachines, lambdas: wf.lambdas });
    secondClient.resolve(ep.client);
    expect(ep.sfn.resumedExecutions).toEqual([executionArn]);
    await ep.sfn.idle();
    const execution = await ep.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toMatchObject({ approval: { approvedBy: 'bo' }, final: { status: 'SUCCEEDED' } });
    // Earlier states did not run again; the interrupted one did, with a new token.
    expect(wf.calls.Admit).toHaveLength(1);
    expect(wf.calls.Plan).toHaveLength(1);
    expect(wf.calls.RequestApproval).toHaveLength(2);
    expect(wf.approvalTokens[0]).not.toBe(staleToken);
    await expect(ep.client.send(new SendTaskSuccessCommand({ taskToken: staleToken, output: '{}' }))).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
    expect(wf.calls.ApplyTask).toHaveLength(2);

    const events = (await ep.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
    const types: string[] = events.map((event) => event.type ?? '');
    expect(types.filter((type) => type === 'ExecutionStarted')).toHaveLength(1);
    expect(types.indexOf('ExecutionResumed')).toBeGreaterThan(0);
    expect(stateNames(events, 'StateEntered')).toEqual([
      'Admit',
      'Plan',
      'AfterPlan',
      'AwaitApproval',
      'AwaitApproval',
      'Apply',
      'ByActionClass',
      'ApplyTask',
      'ByActionClass',
      'ApplyTask',
      'Verify',
      'RecordSuccess',
      'Finalize',
      'DidRunSucceed',
      'Done',
    ]);
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
  });

  it('carries on an execution interrupted inside a Map from the Map state itself', async () => {
    const dataDir = tempDir();
    const wf = runWorkflow();
    const secondApplyStarted = signal<void>();
    wf.replaceHandler('ApplyTask', async (payload) => {
      if ((payload as { taskIndex: number }).taskIndex === 1) {
        secondApplyStarted.resolve();
        await new Promise(() => undefined); // the process "dies" while this runs
      }
      return { status: 'APPLIED', deferred: null };
    });
    const first = await startLocalStepFunctions({ dataDir, stateMachines: wf.stateMachines, lambdas: wf.lambdas });
    cleanups.push(() => first.stop());
    const firstClient = new SFNClient({ endpoint: first.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    wf.useClient(firstClient);
    const { executionArn } = await firstClient.send(new StartExecutionCommand({ stateMachineArn: first.stateMachineArn('run'), input: JSON.stringify(input) }));
    await secondApplyStarted.promise;
    await first.stop();
    firstClient.destroy();

    wf.replaceHandler('ApplyTask', async () => ({ status: 'APPLIED', deferred: null }));
    const ep = await endpoint({ dataDir, stateMachines: wf.stateMachines, lambdas: wf.lambdas });
    wf.useClient(ep.client);
    expect(ep.sfn.resumedExecutions).toEqual([executionArn]);
    await ep.sfn.idle();
    expect((await ep.client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('SUCCEEDED');
    expect([wf.calls.Admit.length, wf.calls.Plan.length, wf.calls.RequestApproval.length]).toEqual([1, 1, 1]);
    // The whole Map ran again: iterations must be idempotent.
    expect(wf.calls.ApplyTask.map((payload) => (payload as { taskIndex: number }).taskIndex)).toEqual([0, 1, 0, 1]);
    const events = (await ep.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events!;
    const resumedAt = events.findIndex((event) => (event.type as string) === 'ExecutionResumed');
    expect(events[resumedAt + 1].stateEnteredEventDetails?.name).toBe('Apply');
  });

  it('carries on an execution interrupted inside a slow lambda, replaying only that state', async () => {
    const dataDir = tempDir();
    const calls = { first: 0, slow: 0, last: 0 };
    const slowEntered = signal<void>();
    let slowBehaviour: () => Promise<unknown> = async () => {
      slowEntered.resolve();
      await new Promise(() => undefined);
    };
    const definition = JSON.stringify({
      StartAt: 'First',
      States: {
        First: task(fn('first'), { Next: 'Slow' }, { ResultPath: '$.first', ResultSelector: { 'v.$': '$.Payload' } }),
        Slow: task(fn('slow'), { Next: 'Last' }, { ResultPath: null }),
        Last: task(fn('last'), { End: true }, { OutputPath: '$.Payload' }),
      },
    });
    const lambdas: Record<string, LocalLambda> = {
      [fn('first')]: async () => ++calls.first,
      [fn('slow')]: async () => {
        calls.slow++;
        return slowBehaviour();
      },
      [fn('last')]: async (payload) => {
        calls.last++;
        return payload;
      },
    };
    const first = await startLocalStepFunctions({ dataDir, stateMachines: [{ name: 'M', definition }], lambdas });
    cleanups.push(() => first.stop());
    const firstClient = new SFNClient({ endpoint: first.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const { executionArn } = await firstClient.send(new StartExecutionCommand({ stateMachineArn: first.stateMachineArn('M'), input: '{"x":1}' }));
    await slowEntered.promise;
    await first.stop();
    firstClient.destroy();
    expect(readFileSync(join(dataDir, 'executions', 'M', executionArn!.split(':').at(-1)!, 'execution.json'), 'utf8')).toContain('"RUNNING"');

    slowBehaviour = async () => 'done';
    const ep = await endpoint({ dataDir, stateMachines: [{ name: 'M', definition }], lambdas });
    expect(ep.sfn.resumedExecutions).toEqual([executionArn]);
    await ep.sfn.idle();
    const execution = await ep.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ x: 1, first: { v: 1 } });
    expect(calls).toEqual({ first: 1, slow: 2, last: 1 });
  });
});
