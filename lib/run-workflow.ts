import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ArtifactVault } from './artifact-vault.ts';
import { AslStateMachine } from './asl-state-machine.ts';
import type { IsolatedNetwork } from './isolated-network.ts';
import { MaestroFunction } from './maestro-function.ts';
import type { ManagedTargets } from './managed-targets.ts';
import type { SynthesizedPack } from './pack-bundles.ts';
import type { StateTable } from './state-table.ts';
import { WORKFLOWS, WORKFLOW_TASKS } from '../functions/handlers/workflow-tasks.ts';
import type { RunTaskId, TaskRight } from '../functions/handlers/workflow-tasks.ts';
import { envVar } from '../functions/core/config/environment-variables.ts';
import type { ExecutorClass } from '../functions/core/runs/task-executor.ts';

/** Properties of a {@link RunWorkflow}. */
export interface RunWorkflowProps {
  /** The state table every step reads and writes (the action executors get none of it). */
  readonly stateTable: StateTable;
  /** The artifact vault (its name is passed to every step, not to the executors). */
  readonly artifactVault: ArtifactVault;
  /** What the action executors may act on: read-only for plan and verify, read/write for apply and rollback. */
  readonly managedTargets: ManagedTargets;

  /**
   * How long function and execution logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The network: every step and executor in isolated subnets, except the ExecuteInternet executor
   * (it runs http.fetch) on the controlled egress path.
   *
   * @default - the functions run outside any VPC
   */
  readonly network?: IsolatedNetwork;

  /**
   * Action packs (lib/pack-bundles.ts, verified at synth): every step carries them, and each gets
   * its own executors, one per action class, granted only the managed resources of the kinds its
   * actions declare.
   *
   * @default - none: the built-in actions only
   */
  readonly packs?: readonly SynthesizedPack[];
}

/** One step of the run workflow: its ASL placeholder, handler file and limits. */
interface RunStep {
  readonly placeholder: string;
  readonly entry: string;
  readonly description: string;
  /** The executors the step sends actions' operations to (and waits for); it may invoke these only. */
  readonly executors: readonly TaskExecutorName[];
  /** Whether the step answers the state machine's task tokens. */
  readonly answersTaskTokens: boolean;
  readonly timeout: Duration;
}

/** A manifest right naming an executor → that executor. */
const EXECUTOR_OF_RIGHT: ReadonlyMap<TaskRight, TaskExecutorName> = new Map<TaskRight, TaskExecutorName>([
  ['executeRead', 'ExecuteRead'],
  ['executeWrite', 'ExecuteWrite'],
  ['executeInternet', 'ExecuteInternet'],
]);

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
      executors: (task.rights as readonly TaskRight[]).flatMap((right) => EXECUTOR_OF_RIGHT.get(right) ?? []),
      answersTaskTokens: (task.rights as readonly TaskRight[]).includes('answerTaskTokens'),
      timeout: Duration.seconds(task.timeoutSeconds),
    },
  ]),
) as unknown as Readonly<Record<RunStepName, RunStep>>;

/** One action executor: what it may touch of the managed targets, and where it runs. */
interface TaskExecutorSpec {
  /** Its key in `MAESTRO_TASK_EXECUTORS` (functions/core/runs/task-executor.ts, ExecutorClass). */
  readonly executorClass: 'read' | 'write' | 'internet';
  readonly description: string;
  /** `read`: read-only on the managed targets; `write`: read and write; `none`: no grant at all. */
  readonly targets: 'read' | 'write' | 'none';
  /** Whether it sits on the controlled egress path (else isolated subnets). */
  readonly egress: boolean;
}

/** The handler every executor runs. */
export const TASK_EXECUTOR_ENTRY = 'functions/handlers/run/execute-task.ts';

/**
 * The action executors, keyed by construct id: the only functions that run actions' code. None of
 * them is given the state table, the artifact vault or a signing key (nor their names): whatever an
 * action's params say, its role reaches the managed targets and nothing of Maestro's.
 */
export const TASK_EXECUTORS = {
  ExecuteRead: {
    executorClass: 'read',
    description: 'Maestro action executor: plan and verify (read-only on the managed targets)',
    targets: 'read',
    egress: false,
  },
  ExecuteWrite: {
    executorClass: 'write',
    description: 'Maestro action executor: apply and roll back (the managed targets only)',
    targets: 'write',
    egress: false,
  },
  ExecuteInternet: {
    executorClass: 'internet',
    description: 'Maestro action executor: apply of internet-reaching actions (the egress path, no managed target)',
    targets: 'none',
    egress: true,
  },
} as const satisfies Record<string, TaskExecutorSpec>;

/** A pack's executor of each class: what it is granted on the kinds its actions declare, and where it runs. */
const PACK_EXECUTOR_CLASSES = {
  read: { suffix: 'Read', description: 'plan and verify (read-only on the managed resources of its kinds)', access: 'read', egress: false },
  write: { suffix: 'Write', description: 'apply and roll back (the managed resources of its kinds only)', access: 'write', egress: false },
  internet: { suffix: 'Internet', description: 'apply of its internet-reaching actions (the egress path)', access: 'write', egress: true },
} as const satisfies Record<ExecutorClass, { suffix: string; description: string; access: 'read' | 'write'; egress: boolean }>;

/** The template metadata key that names a pack executor's pack, class and granted kinds. */
export const PACK_EXECUTOR_METADATA_KEY = 'maestro:pack-executor';

/** `example` → `PackExample`, `my-pack` → `PackMyPack` (construct ids of the pack's executors). */
export function packConstructId(name: string): string {
  return `Pack${name.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, letter: string) => letter.toUpperCase())}`;
}

/** The name of an action executor. */
export type TaskExecutorName = keyof typeof TASK_EXECUTORS;

/**
 * The run workflow: one Lambda function per step, the Standard state machine defined by
 * `statemachines/run.asl.json`, and the action executors. Every step reads and writes the state
 * table and none may touch the managed targets; plan, apply-task, verify and roll-back invoke the
 * executors, which hold the managed targets only; request-approval may answer the state machine's
 * task tokens.
 */
export class RunWorkflow extends Construct {
  /** The definition file, relative to the repository root. */
  static readonly DEFINITION_FILE = WORKFLOWS.run.file;

  /** The step functions, by step name. */
  readonly functions: Readonly<Record<RunStepName, MaestroFunction>>;
  /** The action executors, by name. */
  readonly executors: Readonly<Record<TaskExecutorName, MaestroFunction>>;
  /** Each pack's executors, by pack name and executor class. */
  readonly packExecutors: Readonly<Record<string, Partial<Record<ExecutorClass, MaestroFunction>>>>;
  /** The run state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** The state machine's execution log group. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RunWorkflowProps) {
    super(scope, id);

    const executors = {} as Record<TaskExecutorName, MaestroFunction>;
    for (const [name, spec] of Object.entries(TASK_EXECUTORS) as [TaskExecutorName, TaskExecutorSpec][]) {
      const fn = new MaestroFunction(this, `${name}Function`, {
        entry: TASK_EXECUTOR_ENTRY,
        description: spec.description,
        // An action's own time budget is enforced in code, below this.
        timeout: Duration.minutes(5),
        logRetention: props.logRetention,
        network: props.network && (spec.egress ? props.network.controlledEgressPlacement() : props.network.isolatedPlacement()),
      });
      if (spec.targets === 'write') props.managedTargets.grantActions(fn);
      if (spec.targets === 'read') props.managedTargets.grantReadActions(fn);
      executors[name] = fn;
    }
    this.executors = executors;

    // Each pack's executors: a function per class, bundling that pack only, its role granted the
    // managed resources of the kinds the pack's actions declare and nothing of another kind.
    const packs = props.packs ?? [];
    const packExecutors: Record<string, Partial<Record<ExecutorClass, MaestroFunction>>> = {};
    for (const pack of packs) {
      const byClass: Partial<Record<ExecutorClass, MaestroFunction>> = {};
      for (const [executorClass, kinds] of Object.entries(pack.kinds) as [ExecutorClass, readonly string[]][]) {
        const spec = PACK_EXECUTOR_CLASSES[executorClass];
        const fn = new MaestroFunction(this, `${packConstructId(pack.pin.name)}${spec.suffix}Function`, {
          entry: TASK_EXECUTOR_ENTRY,
          description: `Maestro action executor of pack ${pack.pin.name} ${pack.pin.version}: ${spec.description}`,
          timeout: Duration.minutes(5),
          logRetention: props.logRetention,
          network: props.network && (spec.egress ? props.network.controlledEgressPlacement() : props.network.isolatedPlacement()),
          packs: [pack],
        });
        props.managedTargets.grantKinds(fn, kinds, spec.access);
        (fn.node.defaultChild as lambda.CfnFunction).addMetadata(PACK_EXECUTOR_METADATA_KEY, { pack: pack.pin.name, executorClass, kinds });
        byClass[executorClass] = fn;
      }
      packExecutors[pack.pin.name] = byClass;
    }
    this.packExecutors = packExecutors;
    const packExecutorNames = JSON.stringify(
      Object.fromEntries(
        Object.entries(packExecutors).map(([name, byClass]) => [name, Object.fromEntries(Object.entries(byClass).map(([cls, fn]) => [cls, fn.functionName]))]),
      ),
    );
    const executorNames = JSON.stringify(
      Object.fromEntries(
        (Object.entries(TASK_EXECUTORS) as [TaskExecutorName, TaskExecutorSpec][]).map(([name, spec]) => [spec.executorClass, executors[name].functionName]),
      ),
    );

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
        // The steps have no route out; only the executor of internet-reaching actions sits on the egress path.
        network: props.network?.isolatedPlacement(),
        ...(step.executors.length > 0
          ? {
              environment: {
                [envVar('workflows.taskExecutors')]: executorNames,
                ...(packs.length > 0 ? { [envVar('workflows.packExecutors')]: packExecutorNames } : {}),
              },
            }
          : {}),
        packs,
      });
      // The function itself, not `<arn>:*` (grantInvoke's versions and aliases): executors are invoked unqualified.
      if (step.executors.length > 0) {
        iam.Grant.addToPrincipal({
          grantee: fn,
          actions: ['lambda:InvokeFunction'],
          resourceArns: step.executors.flatMap((executor) => [
            executors[executor].functionArn,
            ...Object.values(packExecutors).flatMap((byClass) => byClass[TASK_EXECUTORS[executor].executorClass]?.functionArn ?? []),
          ]),
        });
      }
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
