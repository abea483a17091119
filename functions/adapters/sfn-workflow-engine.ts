import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { InvalidRunTransition, TaskTokenInvalid, WorkflowUnavailable } from '../core/errors.ts';
import type { ResumeOutcome, WorkflowEngine } from '../core/runs/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';

const TOKEN_GONE = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

/** The run workflow on Step Functions (or the local endpoint that speaks its protocol). */
export class SfnWorkflowEngine implements WorkflowEngine {
  readonly #sfn: SFNClient;
  readonly #stateMachineArn: string | undefined;

  constructor(options: { client: SFNClient; runStateMachineArn?: string }) {
    this.#sfn = options.client;
    this.#stateMachineArn = options.runStateMachineArn;
  }

  executionArnOf(runId: string): string {
    return executionArnFor(this.#requireStateMachineArn(), runId);
  }

  async startRun(input: { runId: string; correlationId: string }): Promise<void> {
    const stateMachineArn = this.#requireStateMachineArn();
    try {
      // The execution is named after the run: Step Functions then refuses a second execution of it.
      await this.#sfn.send(new StartExecutionCommand({ stateMachineArn, name: input.runId, input: JSON.stringify(input) }));
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') return;
      rethrowAwsError(error, `starting the workflow of run ${input.runId}`);
    }
  }

  #requireStateMachineArn(): string {
    if (!this.#stateMachineArn) throw new WorkflowUnavailable('MAESTRO_RUN_STATE_MACHINE_ARN is not set for this function');
    return this.#stateMachineArn;
  }

  async stopRun(executionArn: string, reason: string): Promise<void> {
    try {
      await this.#sfn.send(new StopExecutionCommand({ executionArn, error: 'RunCancelled', cause: reason }));
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return;
      rethrowAwsError(error, `stopping ${executionArn}`);
    }
  }

  async resumeRun(input: { runId: string; correlationId: string; executionArn: string }): Promise<ResumeOutcome> {
    let status: string | undefined;
    try {
      status = (await this.#sfn.send(new DescribeExecutionCommand({ executionArn: input.executionArn }))).status;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ExecutionDoesNotExist')) rethrowAwsError(error, `describing ${input.executionArn}`);
    }
    if (status === undefined) {
      await this.startRun({ runId: input.runId, correlationId: input.correlationId });
      return 'started';
    }
    if (status === 'RUNNING' || status === 'PENDING_REDRIVE') return 'running';
    try {
      await this.#sfn.send(new RedriveExecutionCommand({ executionArn: input.executionArn, clientToken: `${input.runId}-${Date.now()}`.slice(0, 64) }));
      return 'redriven';
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionNotRedrivable') {
        throw new InvalidRunTransition(`the workflow of run ${input.runId} cannot be redriven: ${error.message}`, { cause: error });
      }
      return rethrowAwsError(error, `redriving ${input.executionArn}`);
    }
  }

  async completeWait(taskToken: string, output: Record<string, unknown>): Promise<void> {
    await this.#respond(() => this.#sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })));
  }

  async failWait(taskToken: string, error: string, cause: string): Promise<void> {
    await this.#respond(() => this.#sfn.send(new SendTaskFailureCommand({ taskToken, error, cause })));
  }

  async #respond(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (error instanceof Error && TOKEN_GONE.has(error.name)) {
        throw new TaskTokenInvalid('this wait is over: its task token is unknown, used or timed out', { cause: error });
      }
      rethrowAwsError(error, 'answering a workflow wait');
    }
  }
}

/** `arn:aws:states:R:A:stateMachine:NAME` → `arn:aws:states:R:A:execution:NAME:EXECUTION`. */
export function executionArnFor(stateMachineArn: string, executionName: string): string {
  const parts = stateMachineArn.split(':');
  return [...parts.slice(0, 5), 'execution', parts[6], executionName].join(':');
}
