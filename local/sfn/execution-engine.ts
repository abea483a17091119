import { executionArn as buildExecutionArn } from './arns.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionStore } from './execution-store.ts';
import { executionAborted, executionStarted, toNotice } from './history-events.ts';
import type { HistoryEvent, StateEventNotice } from './history-events.ts';
import { ExecutionRunner } from './execution-runner.ts';
import type { ResumePoint } from './execution-runner.ts';
import type { LocalLambda } from './lambda-tasks.ts';
import type { PreparedStateMachine } from './prepared-state-machine.ts';
import { SfnApiError } from './sfn-errors.ts';
import type { TaskTokens } from './task-tokens.ts';

export interface ExecutionEngineOptions {
  store: ExecutionStore;
  tokens: TaskTokens;
  machines: ReadonlyMap<string, PreparedStateMachine>;
  lambdas: Record<string, LocalLambda>;
  region: string;
  accountId: string;
  notify?: (notice: StateEventNotice) => void;
}

const TERMINAL_EVENTS: Record<string, ExecutionStatus> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

/** Starts, stops and carries on executions; owns the runners of the executions live in this process. */
export class ExecutionEngine {
  #options: ExecutionEngineOptions;
  #runners = new Map<string, ExecutionRunner>();

  constructor(options: ExecutionEngineOptions) {
    this.#options = options;
  }

  /**
   * StartExecution. A repeated name is idempotent as in AWS Standard workflows: same input while the
   * first is still RUNNING returns it; a different input, or a closed execution, is ExecutionAlreadyExists.
   */
  start(machine: PreparedStateMachine, name: string, input: string, traceHeader?: string): ExecutionRecord {
    const { store, region, accountId } = this.#options;
    const executionArn = buildExecutionArn(region, accountId, machine.name, name);
    const existing = store.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      stateMachineName: machine.name,
      name,
      status: 'RUNNING',
      startDate: Date.now(),
      input,
      traceHeader,
    };
    store.create(record);
    const started = store.append(executionArn, executionStarted(input, machine.roleArn), record.startDate);
    this.#notify(executionArn, started, '');
    this.#launch(machine, record);
    return record;
  }

  /** StopExecution: a RUNNING execution ends ABORTED (even one whose state machine is not loaded here). */
  stop(executionArn: string, error: string | undefined, cause: string | undefined): ExecutionRecord {
    const { store } = this.#options;
    const runner = this.#runners.get(executionArn);
    if (runner && !runner.closed) {
      runner.stop(error, cause);
    } else if (store.get(executionArn)?.status === 'RUNNING') {
      const aborted = store.append(executionArn, executionAborted(error, cause));
      this.#notify(executionArn, aborted, '');
      store.update(executionArn, { status: 'ABORTED', error, cause, stopDate: Date.now() });
    }
    const record = store.get(executionArn);
    if (!record) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  /**
   * RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution runs again from the last top-level
   * state it entered, with that state's recorded input (as AWS restarts from the failed state; inside
   * a Map, from the Map state, whose iterations are idempotent). Its history carries on.
   */
  redrive(executionArn: string): ExecutionRecord {
    const { store, machines } = this.#options;
    const record = store.get(executionArn);
    if (!record) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    if (record.status === 'RUNNING' || record.status === 'SUCCEEDED' || this.#runners.has(executionArn)) {
      throw new SfnApiError('ExecutionNotRedrivable', `Execution is ${record.status}; only FAILED, TIMED_OUT or ABORTED executions can be redriven`);
    }
    const machine = machines.get(record.stateMachineName);
    if (!machine) throw new SfnApiError('ExecutionNotRedrivable', `State machine ${record.stateMachineName} is not loaded here`);
    const from = resumePoint(machine, store.history(executionArn));
    const redriveCount = store.history(executionArn).filter((event) => event.type === 'ExecutionRedriven').length + 1;
    const redriven = store.append(executionArn, { type: 'ExecutionRedriven', executionRedrivenEventDetails: { redriveCount } });
    this.#notify(executionArn, redriven, '');
    const updated = store.update(executionArn, { status: 'RUNNING', stopDate: undefined, output: undefined, error: undefined, cause: undefined });
    this.#launch(machine, updated, from);
    return updated;
  }

  /**
   * Carries on every execution recorded as RUNNING: from the last top-level state it entered, with the
   * input recorded then (inside a Map, the Map state itself). That state is replayed, so task handlers
   * must be idempotent. Returns the ARNs carried on.
   */
  resumeRunning(): string[] {
    const { store, machines } = this.#options;
    const resumed: string[] = [];
    for (const record of store.list()) {
      if (record.status !== 'RUNNING' || this.#runners.has(record.executionArn)) continue;
      const machine = machines.get(record.stateMachineName);
      if (!machine) continue; // not loaded in this process: left RUNNING for one that has it
      const history = store.history(record.executionArn);
      if (this.#closeFromHistory(record, history)) continue;
      this.#launch(machine, record, resumePoint(machine, history));
      resumed.push(record.executionArn);
    }
    return resumed;
  }

  /** Resolves when no execution is running in this process. */
  async idle(): Promise<void> {
    while (this.#runners.size > 0) {
      await Promise.all([...this.#runners.values()].map((runner) => runner.done));
    }
  }

  /** Abandons every running execution without recording an end, so a later start carries them on. */
  async shutdown(): Promise<void> {
    for (const runner of this.#runners.values()) runner.detach();
    await this.idle();
  }

  #launch(machine: PreparedStateMachine, record: ExecutionRecord, resumeFrom?: ResumePoint): void {
    const { store, tokens, lambdas, region, notify } = this.#options;
    const runner = new ExecutionRunner({ machine, store, tokens, lambdas, region, notify }, record, resumeFrom);
    this.#runners.set(record.executionArn, runner);
    void runner.done.then(() => this.#runners.delete(record.executionArn));
  }

  /** The process died after recording the end but before updating the record: finish the record. */
  #closeFromHistory(record: ExecutionRecord, history: readonly HistoryEvent[]): boolean {
    const last = history.at(-1);
    const status = last && Object.hasOwn(TERMINAL_EVENTS, last.type) ? TERMINAL_EVENTS[last.type] : undefined;
    if (!last || !status) return false;
    const details = (Object.entries(last).find(([key]) => key.endsWith('EventDetails'))?.[1] ?? {}) as Record<string, string | undefined>;
    this.#options.store.update(record.executionArn, { status, stopDate: last.timestamp, output: details.output, error: details.error, cause: details.cause });
    return true;
  }

  #notify(executionArn: string, event: HistoryEvent, stateName: string): void {
    if (!this.#options.notify) return;
    try {
      this.#options.notify(toNotice(executionArn, event, stateName));
    } catch {
      // A failing progress listener must not fail the API call.
    }
  }
}

/** The last top-level state entered, with its recorded input; none means start from StartAt. */
function resumePoint(machine: PreparedStateMachine, history: readonly HistoryEvent[]): ResumePoint | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const details = history[i].stateEnteredEventDetails as { name?: string; input?: string } | undefined;
    if (details?.name && machine.topLevelStates.has(details.name) && typeof details.input === 'string') {
      return { stateName: details.name, input: JSON.parse(details.input) };
    }
  }
  return undefined;
}
