import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DrWorkflows } from '../core/dr/ports.ts';
import { WorkflowUnavailable } from '../core/errors.ts';

/** Starts the DR state machines; the execution is named after the job, so a retried start is refused, not doubled. */
export class SfnDrWorkflows implements DrWorkflows {
  readonly #sfn: SFNClient;
  readonly #backupArn?: string;
  readonly #restoreArn?: string;

  constructor(options: { client: SFNClient; backupStateMachineArn?: string; restoreStateMachineArn?: string }) {
    this.#sfn = options.client;
    this.#backupArn = options.backupStateMachineArn;
    this.#restoreArn = options.restoreStateMachineArn;
  }

  startBackup(jobId: string, correlationId: string) {
    return this.#start(this.#backupArn, 'MAESTRO_DR_BACKUP_STATE_MACHINE_ARN', jobId, correlationId);
  }

  startRestore(jobId: string, correlationId: string) {
    return this.#start(this.#restoreArn, 'MAESTRO_DR_RESTORE_STATE_MACHINE_ARN', jobId, correlationId);
  }

  async #start(arn: string | undefined, setting: string, jobId: string, correlationId: string): Promise<void> {
    if (!arn) throw new WorkflowUnavailable(`the DR workflow is not configured (${setting})`);
    try {
      await this.#sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: jobId, input: JSON.stringify({ jobId, correlationId }) }));
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') return;
      throw new WorkflowUnavailable(`could not start the DR workflow: ${(error as Error).message}`, { cause: error });
    }
  }
}
