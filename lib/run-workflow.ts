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
  readonly timeout: Duration;
}

/**
 * The run workflow's steps, keyed by construct id. Steps that run actions get five minutes
 * (an action's own time budget is enforced in code, below this); the others thirty seconds.
 */
export const RUN_STEPS = {
  Admit: {
    placeholder: 'AdmitFunctionArn',
    entry: 'functions/handlers/run/admit.ts',
    description: 'Maestro run: admit (kill switch, autonomy, rate limits)',
    actsOnTargets: false,
    timeout: Duration.seconds(30),
  },
  Plan: {
    placeholder: 'PlanFunctionArn',
    entry: 'functions/handlers/run/plan.ts',
    description: 'Maestro run: plan every task without side effects',
    actsOnTargets: true,
    timeout: Duration.minutes(5),
  },
  RequestApproval: {
    placeholder: 'RequestApprovalFunctionArn',
    entry: 'functions/handlers/run/request-approval.ts',
    description: 'Maestro run: request a human approval (task token)',
    actsOnTargets: false,
    timeout: Duration.seconds(30),
  },
  ApplyTask: {
    placeholder: 'ApplyTaskFunctionArn',
    entry: 'functions/handlers/run/apply-task.ts',
    description: 'Maestro run: apply one task idempotently',
    actsOnTargets: true,
    timeout: Duration.minutes(5),
  },
  ApplyInternetTask: {
    placeholder: 'ApplyInternetTaskFunctionArn',
    entry: 'functions/handlers/run/apply-task.ts',
    description: 'Maestro run: apply one task that reaches the internet (the egress path)',
    actsOnTargets: false,
    timeout: Duration.minutes(5),
  },
  Verify: {
    placeholder: 'VerifyFunctionArn',
    entry: 'functions/handlers/run/verify.ts',
    description: 'Maestro run: verify applied tasks',
    actsOnTargets: true,
    timeout: Duration.minutes(5),
  },
  RollBack: {
    placeholder: 'RollBackFunctionArn',
    entry: 'functions/handlers/run/roll-back.ts',
    description: 'Maestro run: roll back applied tasks in reverse order',
    actsOnTargets: true,
    timeout: Duration.minutes(5),
  },
  Finalize: {
    placeholder: 'FinalizeFunctionArn',
    entry: 'functions/handlers/run/finalize.ts',
    description: 'Maestro run: record the outcome',
    actsOnTargets: false,
    timeout: Duration.seconds(30),
  },
} as const satisfies Record<string, RunStep>;

/** The name of a run workflow step. */
export type RunStepName = keyof typeof RUN_STEPS;

/**
 * The run workflow: one Lambda function per step and the Standard state machine defined by
 * `statemachines/run.asl.json`. Every step reads and writes the state table; plan, apply-task,
 * verify and roll-back may act on the managed targets; request-approval may answer the state
 * machine's task tokens.
 */
export class RunWorkflow extends Construct {
  /** The definition file, relative to the repository root. */
  static readonly DEFINITION_FILE = 'statemachines/run.asl.json';

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
        network: props.network && (name === 'ApplyInternetTask' ? props.network.controlledEgressPlacement() : props.network.isolatedPlacement()),
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
    taskResponse.attachToRole(functions.RequestApproval.role as iam.IRole);
  }
}
