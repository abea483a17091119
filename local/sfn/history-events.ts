import type { EventLog } from './library-types.ts';
import type { PreparedStateMachine, TaskStateInfo } from './prepared-state-machine.ts';

export type EventDetails = Record<string, unknown>;

/** The body of an AWS HistoryEvent: its type and at most one `<name>EventDetails` member. */
export type HistoryEventBody = { type: string } & { [detailsKey: `${string}EventDetails`]: EventDetails | undefined };

/** An AWS HistoryEvent as stored; `timestamp` is epoch milliseconds (the API layer converts it to seconds). */
export type HistoryEvent = HistoryEventBody & { id: number; previousEventId: number; timestamp: number };

/** What `onStateEvent` receives: the history event, flattened for a live console. */
export interface StateEventNotice {
  executionArn: string;
  type: string;
  stateName: string;
  ts: number;
  input?: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
}

/** A history event to append, with the state it belongs to (history events themselves do not always name it). */
export interface PendingEvent {
  body: HistoryEventBody;
  stateName: string;
}

export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function withDetails(type: string, detailsKey: string, details: EventDetails): HistoryEventBody {
  return { type, [detailsKey]: details } as HistoryEventBody;
}

export function executionStarted(input: string, roleArn: string): HistoryEventBody {
  return withDetails('ExecutionStarted', 'executionStartedEventDetails', { input, inputDetails: { truncated: false }, roleArn });
}

/** Not an AWS type: marks where a restarted endpoint carried a RUNNING execution on. */
export function executionResumed(): HistoryEventBody {
  return { type: 'ExecutionResumed' } as HistoryEventBody;
}

export function executionSucceeded(output: string): HistoryEventBody {
  return withDetails('ExecutionSucceeded', 'executionSucceededEventDetails', { output, outputDetails: { truncated: false } });
}

export function executionFailed(error: string, cause: string): HistoryEventBody {
  return withDetails('ExecutionFailed', 'executionFailedEventDetails', { error, cause });
}

export function executionAborted(error: string | undefined, cause: string | undefined): HistoryEventBody {
  return withDetails('ExecutionAborted', 'executionAbortedEventDetails', { error, cause });
}

export function executionTimedOut(): HistoryEventBody {
  return withDetails('ExecutionTimedOut', 'executionTimedOutEventDetails', {
    error: 'States.Timeout',
    cause: 'The execution timed out (definition TimeoutSeconds)',
  });
}

/** `arn:aws:states:::lambda:invoke.waitForTaskToken` → resourceType `lambda`, resource `invoke.waitForTaskToken`. */
function splitResource(task: TaskStateInfo): { resourceType: string; resource: string } {
  const service = task.resource.replace(/^arn:aws[a-z-]*:states:[^:]*:[^:]*:/, '');
  const cut = service.lastIndexOf(':');
  return cut < 0 ? { resourceType: service, resource: service } : { resourceType: service.slice(0, cut), resource: service.slice(cut + 1) };
}

/**
 * The task-level events of one Task state, in the vocabulary AWS uses for its resource: plain
 * function ARNs produce LambdaFunction* events, service integrations Task* events.
 */
export function taskEvents(task: TaskStateInfo) {
  if (task.kind === 'function') {
    return {
      scheduled: (parameters: string, timeoutInSeconds?: number) =>
        withDetails('LambdaFunctionScheduled', 'lambdaFunctionScheduledEventDetails', { resource: task.resource, input: parameters, timeoutInSeconds }),
      started: () => ({ type: 'LambdaFunctionStarted' }) as HistoryEventBody,
      submitted: undefined,
      succeeded: (output: string) => withDetails('LambdaFunctionSucceeded', 'lambdaFunctionSucceededEventDetails', { output }),
      failed: (error: string, cause: string) => withDetails('LambdaFunctionFailed', 'lambdaFunctionFailedEventDetails', { error, cause }),
      timedOut: (error: string, cause: string) => withDetails('LambdaFunctionTimedOut', 'lambdaFunctionTimedOutEventDetails', { error, cause }),
    };
  }
  const resource = splitResource(task);
  return {
    scheduled: (parameters: string, timeoutInSeconds?: number, heartbeatInSeconds?: number, region?: string) =>
      withDetails('TaskScheduled', 'taskScheduledEventDetails', { ...resource, region, parameters, timeoutInSeconds, heartbeatInSeconds }),
    started: () => withDetails('TaskStarted', 'taskStartedEventDetails', { ...resource }),
    submitted: (output: string) => withDetails('TaskSubmitted', 'taskSubmittedEventDetails', { ...resource, output }),
    succeeded: (output: string) => withDetails('TaskSucceeded', 'taskSucceededEventDetails', { ...resource, output }),
    failed: (error: string, cause: string) => withDetails('TaskFailed', 'taskFailedEventDetails', { ...resource, error, cause }),
    timedOut: (error: string, cause: string) => withDetails('TaskTimedOut', 'taskTimedOutEventDetails', { ...resource, error, cause }),
  };
}

const TIMEOUT_ERRORS = new Set(['States.Timeout', 'States.HeartbeatTimeout']);

function causeText(cause: unknown): string {
  return typeof cause === 'string' ? cause : json(cause);
}

/**
 * Maps an aws-local-stepfunctions event log entry to the history event AWS would record, or
 * undefined when AWS has none (retries, catches, Parallel branches) or the runner records it itself
 * (execution start and end, which need the execution record updated with them).
 */
export function fromLibraryEvent(event: EventLog, machine: PreparedStateMachine): PendingEvent | undefined {
  switch (event.type) {
    case 'StateEntered':
      return {
        stateName: event.state.name,
        body: withDetails(`${event.state.type}StateEntered`, 'stateEnteredEventDetails', {
          name: event.state.name,
          input: json(event.state.input),
          inputDetails: { truncated: false },
        }),
      };
    case 'StateExited':
      return {
        stateName: event.state.name,
        body: withDetails(`${event.state.type}StateExited`, 'stateExitedEventDetails', {
          name: event.state.name,
          output: json(event.state.output),
          outputDetails: { truncated: false },
        }),
      };
    case 'StateFailed': {
      const cause = causeText(event.Cause);
      if (event.state.type === 'Task') {
        const task = machine.tasks.get(event.state.name);
        if (!task) return undefined;
        const events = taskEvents(task);
        const body = TIMEOUT_ERRORS.has(event.Error) ? events.timedOut(event.Error, cause) : events.failed(event.Error, cause);
        return { stateName: event.state.name, body };
      }
      if (event.state.type === 'Map' || event.state.type === 'Parallel') {
        return {
          stateName: event.state.name,
          body: withDetails(`${event.state.type}StateFailed`, `${event.state.type === 'Map' ? 'map' : 'parallel'}StateFailedEventDetails`, {
            error: event.Error,
            cause,
          }),
        };
      }
      return undefined;
    }
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed': {
      const detailsKey = `${event.type[0].toLowerCase()}${event.type.slice(1)}EventDetails`;
      return { stateName: event.parentState.name, body: withDetails(event.type, detailsKey, { name: event.parentState.name, index: event.index }) };
    }
    default:
      return undefined;
  }
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Flattens a history event for the live progress hook. */
export function toNotice(executionArn: string, event: HistoryEvent, stateName: string): StateEventNotice {
  const notice: StateEventNotice = { executionArn, type: event.type, stateName, ts: event.timestamp };
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || !value || typeof value !== 'object') continue;
    const details = value as EventDetails;
    if ('input' in details) notice.input = parseJson(details.input);
    if ('parameters' in details) notice.input = parseJson(details.parameters);
    if ('output' in details) notice.output = parseJson(details.output);
    if (typeof details.error === 'string') notice.error = details.error;
    if (typeof details.cause === 'string') notice.cause = details.cause;
  }
  return notice;
}
