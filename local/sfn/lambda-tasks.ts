import { randomUUID } from 'node:crypto';
import { lambdaFunctionName } from './arns.ts';
import { json, taskEvents } from './history-events.ts';
import type { HistoryEventBody } from './history-events.ts';
import type { JsonValue } from './library-types.ts';
import { MAX_TIMER_SECONDS } from './prepared-state-machine.ts';
import type { TaskStateInfo } from './prepared-state-machine.ts';
import { readSecondsPath } from './reference-path.ts';
import { describeThrown, stateError } from './sfn-errors.ts';
import type { TaskTokens } from './task-tokens.ts';

/** An in-process Lambda stand-in: receives the invoke Payload, returns the function result (or throws; the error's `name` is the Lambda errorType). */
export type LocalLambda = (payload: unknown) => Promise<unknown>;

/**
 * What `$$.Task.Token` evaluates to (it is the context object's `Task.Token`). The task handler swaps
 * it for a fresh token wherever it landed in its input, in a field or inside a `States.Format`
 * string. One constant plus a swap per task invocation keeps concurrent Map iterations apart, which a
 * context getter could not promise (it does not know which task is reading it).
 */
export const TASK_TOKEN_PLACEHOLDER = '{{local-sfn:$$.Task.Token}}';

export interface TaskRunContext {
  executionArn: string;
  region: string;
  /** Aborted when the execution is stopped, ends, or is left behind at shutdown. */
  signal: AbortSignal;
  lambdas: Record<string, LocalLambda>;
  tokens: TaskTokens;
  /** Appends a history event of this execution (ignored once it is closed). */
  record(body: HistoryEventBody, stateName: string): void;
}

export type TaskHandler = (input: JsonValue) => Promise<JsonValue>;

/**
 * The local stand-in for one Task state, given to aws-local-stepfunctions as its
 * `taskResourceLocalHandlers[stateName]`: it receives the state's input after Parameters and its
 * result goes through ResultSelector / ResultPath; a thrown error's `name` is what Retry/Catch match.
 */
export function createTaskHandler(task: TaskStateInfo, run: TaskRunContext): TaskHandler {
  return async (input) => {
    // The library logs StateEntered before calling us but its event log is read asynchronously;
    // one macrotask lets that entry be recorded (and persisted) before this task's own events.
    await new Promise((resolve) => setImmediate(resolve));
    run.signal.throwIfAborted();
    const timeoutSeconds = task.timeoutSecondsPath ? readSecondsPath(task.timeoutSecondsPath, input) : task.timeoutSeconds;
    switch (task.kind) {
      case 'invoke':
        return invokeTask(task, run, input, timeoutSeconds);
      case 'callback':
        return callbackTask(task, run, input, timeoutSeconds);
      case 'function':
        return functionTask(task, run, input, timeoutSeconds);
      default:
        throw stateError(
          'States.Runtime',
          `Resource ${task.resource} of state ${task.stateName} is not supported by the local Step Functions endpoint (only Lambda)`,
        );
    }
  };
}

/** `arn:aws:states:::lambda:invoke`: the result is the Lambda integration's response, Payload inside. */
async function invokeTask(task: TaskStateInfo, run: TaskRunContext, input: JsonValue, timeoutSeconds: number | undefined): Promise<JsonValue> {
  const events = taskEvents(task);
  const { functionName, payload, invocationType } = invokeParameters(task, input);
  run.record(events.scheduled(json(input), timeoutSeconds, undefined, run.region), task.stateName);
  const lambda = findLambda(run.lambdas, functionName);
  run.record(events.started(), task.stateName);
  if (invocationType === 'Event') {
    // Asynchronous invocation: AWS answers 202 at once and never reports the function's outcome.
    callLambda(lambda, payload).catch(() => undefined);
    return succeed(task, run, integrationOutput('', 202));
  }
  const result = await withTimeout(callLambda(lambda, payload), timeoutSeconds, task, run.signal);
  return succeed(task, run, integrationOutput(result, 200));
}

/** A plain function ARN as Resource: the state's input is the event, the function's result is the state's result. */
async function functionTask(task: TaskStateInfo, run: TaskRunContext, input: JsonValue, timeoutSeconds: number | undefined): Promise<JsonValue> {
  const events = taskEvents(task);
  run.record(events.scheduled(json(input), timeoutSeconds), task.stateName);
  const lambda = findLambda(run.lambdas, task.resource);
  run.record(events.started(), task.stateName);
  const result = await withTimeout(callLambda(lambda, input), timeoutSeconds, task, run.signal);
  return succeed(task, run, result as JsonValue);
}

/**
 * `arn:aws:states:::lambda:invoke.waitForTaskToken`: registers a fresh token, invokes the lambda
 * (its result is ignored, its failure fails the task) and parks until SendTaskSuccess/Failure, the
 * state's TimeoutSeconds, a missed HeartbeatSeconds, or the execution's end. Tokens live in memory:
 * a wait interrupted by a restart is re-entered with a new token, and its lambda is invoked again.
 */
async function callbackTask(task: TaskStateInfo, run: TaskRunContext, input: JsonValue, timeoutSeconds: number | undefined): Promise<JsonValue> {
  const events = taskEvents(task);
  const heartbeatSeconds = task.heartbeatSecondsPath ? readSecondsPath(task.heartbeatSecondsPath, input) : task.heartbeatSeconds;
  // Registered before the lambda runs: it may call SendTaskSuccess before it returns.
  const wait = run.tokens.create({ executionArn: run.executionArn, stateName: task.stateName, timeoutSeconds, heartbeatSeconds });
  let waiting = true;
  const parameters = withTaskToken(input, wait.token);
  const { functionName, payload } = invokeParameters(task, parameters);
  run.record(events.scheduled(json(parameters), timeoutSeconds, heartbeatSeconds, run.region), task.stateName);
  let lambda: LocalLambda;
  try {
    lambda = findLambda(run.lambdas, functionName);
  } catch (error) {
    run.tokens.reject(wait.token, error as Error);
    throw error;
  }
  run.record(events.started(), task.stateName);
  callLambda(lambda, payload).then(
    (result) => {
      if (waiting && events.submitted) run.record(events.submitted(json(integrationOutput(result, 200))), task.stateName);
    },
    (error: unknown) => run.tokens.reject(wait.token, error as Error),
  );
  try {
    const output = await raceAbort(wait.result, run.signal);
    return succeed(task, run, output as JsonValue);
  } finally {
    waiting = false;
    run.tokens.reject(wait.token, stateError('States.Runtime', 'Task abandoned'));
  }
}

function succeed(task: TaskStateInfo, run: TaskRunContext, result: JsonValue): JsonValue {
  run.signal.throwIfAborted();
  run.record(taskEvents(task).succeeded(json(result)), task.stateName);
  return result;
}

function invokeParameters(task: TaskStateInfo, input: JsonValue): { functionName: string; payload: unknown; invocationType?: unknown } {
  const parameters = (input ?? {}) as Record<string, unknown>;
  if (typeof parameters.FunctionName !== 'string') {
    throw stateError('States.Runtime', `State ${task.stateName}: Parameters must give a FunctionName for ${task.resource}`);
  }
  return { functionName: parameters.FunctionName, payload: parameters.Payload ?? {}, invocationType: parameters.InvocationType };
}

/** Looks a FunctionName up as given, then by bare function name (AWS accepts names, ARNs and qualified ARNs). */
function findLambda(lambdas: Record<string, LocalLambda>, functionName: string): LocalLambda {
  if (Object.hasOwn(lambdas, functionName)) return lambdas[functionName];
  const wanted = lambdaFunctionName(functionName);
  for (const [key, lambda] of Object.entries(lambdas)) {
    if (lambdaFunctionName(key) === wanted) return lambda;
  }
  throw stateError('Lambda.ResourceNotFoundException', `Function not found: ${functionName}`);
}

/**
 * Calls a local lambda the way Lambda would: it gets a copy of the payload, its result comes back
 * through JSON, and whatever it throws becomes an error named by its errorType with its message as cause.
 */
async function callLambda(lambda: LocalLambda, payload: unknown): Promise<unknown> {
  let result: unknown;
  try {
    result = await lambda(JSON.parse(json(payload)));
  } catch (thrown) {
    const { error, cause } = describeThrown(thrown);
    throw stateError(error, cause);
  }
  return JSON.parse(json(result));
}

/** The response of the Lambda service integration, so `ResultSelector {"x.$": "$.Payload.x"}` works as in AWS. */
function integrationOutput(payload: unknown, statusCode: number): JsonValue {
  const requestId = randomUUID();
  const headers = { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': requestId, Date: new Date().toUTCString() };
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload as JsonValue,
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      HttpHeaders: headers,
      HttpStatusCode: statusCode,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: statusCode,
  };
}

function withTaskToken(value: JsonValue, token: string): JsonValue {
  if (typeof value === 'string') return value.replaceAll(TASK_TOKEN_PLACEHOLDER, token);
  if (Array.isArray(value)) return value.map((item) => withTaskToken(item, token));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withTaskToken(item as JsonValue, token)]));
  }
  return value;
}

/** Settles with `promise` unless the signal aborts first; the listener is removed either way. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** The task's own TimeoutSeconds (States.Timeout); the lambda keeps running but its result is dropped. */
function withTimeout<T>(promise: Promise<T>, timeoutSeconds: number | undefined, task: TaskStateInfo, signal: AbortSignal): Promise<T> {
  if (timeoutSeconds === undefined) return raceAbort(promise, signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(stateError('States.Timeout', `Task ${task.stateName} timed out after ${timeoutSeconds} s`)),
      Math.min(timeoutSeconds, MAX_TIMER_SECONDS) * 1000,
    );
  });
  return raceAbort(Promise.race([promise, timedOut]), signal).finally(() => clearTimeout(timer));
}
