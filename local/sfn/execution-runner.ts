import { StateMachine } from 'aws-local-stepfunctions';
import type { ExecutionRecord, ExecutionStore } from './execution-store.ts';
import {
  executionAborted,
  executionFailed,
  executionResumed,
  executionSucceeded,
  executionTimedOut,
  fromLibraryEvent,
  json,
  toNotice,
} from './history-events.ts';
import type { HistoryEventBody, StateEventNotice } from './history-events.ts';
import { createTaskHandler, TASK_TOKEN_PLACEHOLDER } from './lambda-tasks.ts';
import type { LocalLambda, TaskHandler } from './lambda-tasks.ts';
import type { EventLog, JsonValue } from './library-types.ts';
import { definitionStartingAt } from './prepared-state-machine.ts';
import type { PreparedStateMachine } from './prepared-state-machine.ts';
import { stateError } from './sfn-errors.ts';
import type { TaskTokens } from './task-tokens.ts';

export interface ExecutionRunnerOptions {
  machine: PreparedStateMachine;
  store: ExecutionStore;
  tokens: TaskTokens;
  lambdas: Record<string, LocalLambda>;
  region: string;
  notify?: (notice: StateEventNotice) => void;
}

/** Where a carried-on execution restarts: a top-level state and the input it was entered with. */
export interface ResumePoint {
  stateName: string;
  input: unknown;
}

/**
 * Runs one execution on aws-local-stepfunctions and keeps its durable record: every event the library
 * logs is mapped to an AWS history event and appended, and the end (succeeded, failed, timed out) is
 * written to the record. Once the execution is closed (ended, stopped by StopExecution, or detached at
 * shutdown) nothing more is recorded and its pending task waits are cancelled.
 */
export class ExecutionRunner {
  readonly executionArn: string;
  /** Settles when the library run and the event log reader have both finished. */
  readonly done: Promise<void>;
  #options: ExecutionRunnerOptions;
  #closed = false;
  #abort = new AbortController();
  #run: ReturnType<StateMachine['run']>;

  constructor(options: ExecutionRunnerOptions, record: ExecutionRecord, resumeFrom?: ResumePoint) {
    this.#options = options;
    this.executionArn = record.executionArn;
    const { machine } = options;
    const definition = resumeFrom ? definitionStartingAt(machine, resumeFrom.stateName) : machine.runtimeDefinition;
    const input = (resumeFrom ? resumeFrom.input : JSON.parse(record.input)) as JsonValue;
    if (resumeFrom) this.#record(executionResumed(), resumeFrom.stateName);

    const handlers: Record<string, TaskHandler> = {};
    const taskRun = {
      executionArn: record.executionArn,
      region: options.region,
      signal: this.#abort.signal,
      lambdas: options.lambdas,
      tokens: options.tokens,
      record: (body: HistoryEventBody, stateName: string) => this.#record(body, stateName),
    };
    for (const task of machine.tasks.values()) handlers[task.stateName] = createTaskHandler(task, taskRun);

    // The full definition was validated when the machine was prepared; a resumed one starts past
    // states that are then unreachable, which the validator would refuse.
    this.#run = new StateMachine(definition, { validationOptions: { noValidate: true } }).run(input, {
      overrides: { taskResourceLocalHandlers: handlers },
      noThrowOnAbort: true,
      context: {
        // The library sets Execution.Input and StartTime itself: on a resumed execution they are the
        // resumed state's input and the resume time.
        Execution: { Id: record.executionArn, Name: record.name, RoleArn: machine.roleArn },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
      },
    });
    const reading = this.#read(this.#run.eventLogs);
    this.done = Promise.allSettled([reading, this.#run.result]).then(() => undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** StopExecution: ends ABORTED; pending task tokens become invalid and nothing further runs. */
  stop(error: string | undefined, cause: string | undefined): void {
    if (this.#closed) return;
    this.#record(executionAborted(error, cause), '');
    this.#close({ status: 'ABORTED', error, cause });
    this.#run.abort();
  }

  /** Shutdown: abandons the run without recording anything, so the next start carries it on. */
  detach(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    this.#run.abort();
  }

  async #read(events: AsyncGenerator<EventLog>): Promise<void> {
    for await (const event of events) {
      if (this.#closed) break;
      this.#onLibraryEvent(event);
    }
  }

  #onLibraryEvent(event: EventLog): void {
    switch (event.type) {
      case 'ExecutionSucceeded':
        this.#record(executionSucceeded(json(event.output)), '');
        this.#close({ status: 'SUCCEEDED', output: json(event.output) });
        return;
      case 'ExecutionFailed': {
        const cause = typeof event.Cause === 'string' ? event.Cause : json(event.Cause);
        this.#record(executionFailed(event.Error, cause), '');
        this.#close({ status: 'FAILED', error: event.Error, cause });
        return;
      }
      case 'ExecutionTimeout':
        this.#record(executionTimedOut(), '');
        this.#close({ status: 'TIMED_OUT', error: 'States.Timeout' });
        return;
      default: {
        const pending = fromLibraryEvent(event, this.#options.machine);
        if (pending) this.#record(pending.body, pending.stateName);
      }
    }
  }

  #record(body: HistoryEventBody, stateName: string): void {
    if (this.#closed) return;
    const event = this.#options.store.append(this.executionArn, body);
    if (!this.#options.notify) return;
    try {
      this.#options.notify(toNotice(this.executionArn, event, stateName));
    } catch {
      // A failing progress listener must not fail the execution.
    }
  }

  #close(changes: Partial<ExecutionRecord>): void {
    this.#closed = true;
    this.#options.store.update(this.executionArn, { ...changes, stopDate: Date.now() });
    this.#release();
  }

  /** Unblocks whatever is still waiting inside the run (task tokens, lambdas, timers). */
  #release(): void {
    const reason = stateError('States.Aborted', 'The execution is no longer running here');
    this.#abort.abort(reason);
    this.#options.tokens.cancelExecution(this.executionArn, reason);
  }
}
