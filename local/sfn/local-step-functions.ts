import { stateMachineArn as buildStateMachineArn } from './arns.ts';
import { ExecutionEngine } from './execution-engine.ts';
import { ExecutionStore } from './execution-store.ts';
import type { StateEventNotice } from './history-events.ts';
import type { LocalLambda } from './lambda-tasks.ts';
import { prepareStateMachine } from './prepared-state-machine.ts';
import type { PreparedStateMachine } from './prepared-state-machine.ts';
import { createSfnOperations } from './sfn-operations.ts';
import { startSfnJsonServer } from './sfn-json-server.ts';
import { TaskTokens } from './task-tokens.ts';

export { loadDefinition } from './definition-file.ts';
export type { LocalLambda } from './lambda-tasks.ts';
export type { StateEventNotice } from './history-events.ts';

export interface LocalStateMachine {
  name: string;
  /** ASL JSON text, substitutions already applied. */
  definition: string;
  roleArn?: string;
}

export interface LocalStepFunctionsOptions {
  /** Executions are persisted under `dataDir/executions/`. */
  dataDir: string;
  stateMachines: LocalStateMachine[];
  /** Local stand-ins by function ARN (a bare function name also matches). */
  lambdas: Record<string, LocalLambda>;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  region?: string;
  accountId?: string;
  /** Live progress for the console: called once per history event appended (states entered/exited/failed, task events, execution end). */
  onStateEvent?: (e: StateEventNotice) => void;
}

export interface RunningLocalStepFunctions {
  url: string;
  port: number;
  /** arn:aws:states:REGION:ACCOUNT:stateMachine:NAME */
  stateMachineArn(name: string): string;
  /** Execution ARNs carried on at start-up. */
  resumedExecutions: string[];
  /** Resolves when no execution is running (for tests and shutdown). */
  idle(): Promise<void>;
  /** Stops HTTP and abandons running executions without marking them finished (a later start carries them on); clears all timers. */
  stop(): Promise<void>;
}

/**
 * A local Step Functions endpoint, in-process: the AWS JSON protocol on loopback for an unmodified
 * SFNClient, ASL run by aws-local-stepfunctions, Lambda tasks run by in-process functions, executions
 * recorded under `dataDir` and carried on after a restart.
 */
export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<RunningLocalStepFunctions> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const stateMachineArn = (name: string) => buildStateMachineArn(region, accountId, name);

  const machines = new Map<string, PreparedStateMachine>();
  for (const { name, definition, roleArn } of options.stateMachines) {
    if (machines.has(name)) throw new Error(`State machine ${name} is defined twice`);
    machines.set(
      name,
      prepareStateMachine({ name, definition, arn: stateMachineArn(name), roleArn: roleArn ?? `arn:aws:iam::${accountId}:role/${name}-role` }),
    );
  }
  const machinesByArn = new Map([...machines.values()].map((machine) => [machine.arn, machine] as const));

  const store = new ExecutionStore(options.dataDir);
  const tokens = new TaskTokens();
  const engine = new ExecutionEngine({ store, tokens, machines, lambdas: options.lambdas, region, accountId, notify: options.onStateEvent });
  const server = await startSfnJsonServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    operations: createSfnOperations({ engine, store, tokens, machinesByArn }),
  });
  // Only once the endpoint listens: a resumed task's lambda may call SendTaskSuccess straight away.
  const resumedExecutions = engine.resumeRunning();

  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    stateMachineArn,
    resumedExecutions,
    idle: () => engine.idle(),
    stop: () => {
      stopping ??= (async () => {
        await server.close();
        await engine.shutdown();
      })();
      return stopping;
    },
  };
}
