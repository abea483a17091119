import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ArtifactVault } from './artifact-vault.ts';
import { AslStateMachine } from './asl-state-machine.ts';
import type { IsolatedNetwork } from './isolated-network.ts';
import { MaestroFunction } from './maestro-function.ts';
import type { ManagedTargets } from './managed-targets.ts';
import type { StateTable } from './state-table.ts';
import { WORKFLOWS, WORKFLOW_TASKS } from '../functions/handlers/workflow-tasks.ts';
import type { RunTaskId, TaskRight } from '../functions/handlers/workflow-tasks.ts';

/** Properties of a {@link RunWorkflow}. */
export interface RunWorkflowProps {
  /** The state table every step reads and writes. */
  readonly stateTable: StateTable;
  /** The artifact vault (its name is passed to every step). */
  readonly artifactVault: ArtifactVault;
  /** What plan, apply, verify and roll-back may act on. */
  readonly managedTargets: ManagedTargets;

  /**
   * How long function and execution logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The network: every step in isolated subnets, except ApplyTask (it runs http.fetch) on the
   * controlled egress path.
   *
   * @default - the functions run outside any VPC
   */
  readonly network?: IsolatedNetwork;
}

/** One step of the run workflow: its ASL placeholder, handler file and limits. */
interface RunStep {
  readonly placeholder: string;
  readonly entry: string;
  readonly description: string;
  /** Whether the step acts on managed targets. */
  readonly actsOnTargets: boolean;
  /** Whether the step runs on the controlled egress path (internet-reaching actions). */
  readonly onEgressPath: boolean;
  /** Whether the step answers the state machine's task tokens. */
  readonly answersTaskTokens: boolean;
  readonly timeout: Duration;
}

/** The name of a run workflow step. */
export type RunStepName = RunTaskId;

/** The run workflow's steps, keyed by construct id, from the tasks' manifest (functions/handlers/workflow-tasks.ts). */
export const RUN_STEPS = Object.fromEntries(
  WORKFLOW_TASKS.filter((task) => task.family === 'run').map((task) => [
    task.id,
    {
      placeholder: task.placeholder,
      entry: task.entry,
      description: task.description,
      actsOnTargets: (task.rights as readonly TaskRight[]).includes('actOnTargets'),
      onEgressPath: (task.rights as readonly TaskRight[]).includes('egressPath'),
      answersTaskTokens: (task.rights as readonly TaskRight[]).includes('answerTaskTokens'),
      timeout: Duration.seconds(task.timeoutSeconds),
    },
  ]),
) as Readonly<Record<RunStepName, RunStep>>;

/**
 * The run workflow: one Lambda function per step and the Standard state machine defined by
 * `statemachines/run.asl.json`. Every step reads and writes the state table; plan, apply-task,
 * verify and roll-back may act on the managed targets; request-approval may answer the state
 * machine's task tokens.
 */
export class RunWorkflow extends Construct {
  /** The definition file, relative to the repository root. */
  static readonly DEFINITION_FILE = WORKFLOWS.run.file;

  /** The step functions, by step name. */
  readonly functions: Readonly<Record<RunStepName, MaestroFunction>>;
  /** The run state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** The state machine's execution log group. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RunWorkflowProps) {
    super(scope, id);

    const entries = Object.entries(RUN_STEPS) as [RunStepName, RunStep][];
    const functions = {} as Record<RunStepName, MaestroFunction>;
    for (const [name, step] of entries) {
      const fn = new MaestroFunction(this, `${name}Function`, {
        entry: step.entry,
        description: step.description,
        stateTable: props.stateTable,
        artifactVault: props.artifactVault,
        timeout: step.timeout,
        logRetention: props.logRetention,
        // Only the function for internet-reaching actions sits on the egress path; the rest have no route out.
        network: props.network && (step.onEgressPath ? props.network.controlledEgressPlacement() : props.network.isolatedPlacement()),
      });
      if (step.actsOnTargets) props.managedTargets.grantActions(fn);
      functions[name] = fn;
    }
    this.functions = functions;

    const machine = new AslStateMachine(this, 'StateMachine', {
      definitionFile: RunWorkflow.DEFINITION_FILE,
      functions: Object.fromEntries(entries.map(([name, step]) => [step.placeholder, functions[name]])),
      logRetention: props.logRetention,
    });
    this.stateMachine = machine.stateMachine;
    this.logGroup = machine.logGroup;

    // `stateMachine.grantTaskResponse(fn)` would write into the function's default policy, which
    // the function depends on, while the state machine depends on the function's ARN: a cycle.
    // A separate policy that the function does not depend on grants the same actions.
    const taskResponse = new iam.Policy(this, 'RequestApprovalTaskResponsePolicy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [this.stateMachine.stateMachineArn],
        }),
      ],
    });
    for (const [name, step] of entries) if (step.answersTaskTokens) taskResponse.attachToRole(functions[name].role as iam.IRole);
  }
}
