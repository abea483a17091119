import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import type { ArtifactVault } from './artifact-vault.ts';
import type { IsolatedNetwork } from './isolated-network.ts';
import { MaestroFunction } from './maestro-function.ts';
import { acknowledgeNag, nagText } from './nag.ts';
import type { StateTable } from './state-table.ts';
import { envVar } from '../functions/core/config/environment-variables.ts';

/** One environment's drift sweep schedule (`environments.<env>.drift.schedule` of maestro.config.yaml). */
export interface DriftScheduleDeclaration {
  /** The environment swept (one of maestro.config.yaml's). */
  readonly environment: string;
  /** An EventBridge Scheduler expression: `rate(15 minutes)`, `cron(0/15 * * * ? *)`. */
  readonly schedule: string;
}

/** Properties of {@link DriftSchedules}. */
export interface DriftSchedulesProps {
  /** The state table the sweep reads runs from and records findings (with their outbox rows) in. */
  readonly stateTable: StateTable;
  /** The artifact vault (its name is passed on, like to every Maestro function; no access is granted). */
  readonly artifactVault: ArtifactVault;
  /**
   * The read-only action executor (RunWorkflow's `ExecuteRead`): the sweep sends each re-plan there and
   * may invoke nothing else, so it never holds a grant on the managed targets itself.
   */
  readonly planExecutor: lambda.IFunction;
  /** The environments swept, each on its own schedule. An empty list gives the sweep function and no schedule. */
  readonly schedules: readonly DriftScheduleDeclaration[];
  /** @default - outside any VPC */
  readonly network?: IsolatedNetwork;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Drift detection in AWS: a sweep function (functions/handlers/drift/scheduled.ts) and an EventBridge
 * Scheduler schedule per environment invoking it with `{environment}`. The sweep reads and writes the
 * state table (findings and their DriftDetected outbox rows) and invokes the read-only executor for
 * every re-plan; the schedules' role may invoke the sweep function and nothing else.
 */
export class DriftSchedules extends Construct {
  readonly sweepFunction: MaestroFunction;
  readonly schedules: readonly scheduler.Schedule[];
  readonly #planExecutor: lambda.IFunction;

  constructor(scope: Construct, id: string, props: DriftSchedulesProps) {
    super(scope, id);
    const seen = new Set<string>();
    for (const declaration of props.schedules) {
      if (!/^[a-z][a-z0-9-]{0,31}$/.test(declaration.environment)) {
        throw new Error(`DriftSchedules ${this.node.path}: environment must be a lowercase name, got ${JSON.stringify(declaration.environment)}`);
      }
      if (seen.has(declaration.environment)) throw new Error(`DriftSchedules ${this.node.path}: ${declaration.environment} is scheduled twice`);
      seen.add(declaration.environment);
      if (!/^(rate|cron|at)\(.+\)$/.test(declaration.schedule)) {
        throw new Error(
          `DriftSchedules ${this.node.path}: schedule of ${declaration.environment} must be rate(...), cron(...) or at(...), got ${JSON.stringify(declaration.schedule)}`,
        );
      }
    }
    this.#planExecutor = props.planExecutor;

    this.sweepFunction = new MaestroFunction(this, 'SweepFunction', {
      entry: 'functions/handlers/drift/scheduled.ts',
      description: 'Maestro drift: re-plan what the last SUCCEEDED run of each resource applied',
      stateTable: props.stateTable,
      artifactVault: props.artifactVault,
      timeout: Duration.minutes(5),
      logRetention: props.logRetention,
      network: props.network?.isolatedPlacement(),
    });
    this.grantSweep(this.sweepFunction);

    const role = new iam.Role(this, 'SchedulerRole', {
      description: 'Maestro drift: EventBridge Scheduler invokes the sweep function',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    acknowledgeNag(role, {
      id: `AwsSolutions-IAM5[Resource::${nagText(this, `${this.sweepFunction.functionArn}:*`)}]`,
      reason: 'grantInvoke of the sweep function to the drift schedules\' role: "<function ARN>:*" covers the versions and aliases of that one function.',
    });
    this.schedules = props.schedules.map(
      (declaration) =>
        new scheduler.Schedule(this, `Sweep-${declaration.environment}`, {
          description: `Maestro drift: sweep of ${declaration.environment}`,
          schedule: scheduler.ScheduleExpression.expression(declaration.schedule),
          target: new schedulerTargets.LambdaInvoke(this.sweepFunction, {
            input: scheduler.ScheduleTargetInput.fromObject({ environment: declaration.environment }),
            role,
            retryAttempts: 2,
          }),
        }),
    );
  }

  /**
   * What a function needs to sweep (the API's `POST /drift/sweeps`): invoke the read-only executor,
   * named in its environment for plans. The state table it gets from its own construct.
   */
  grantSweep(fn: lambda.Function): void {
    // The function itself, not `<arn>:*`: executors are invoked unqualified.
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['lambda:InvokeFunction'], resourceArns: [this.#planExecutor.functionArn] });
    // Plans only ever go to the read executor; write and internet name it too, so that this function cannot reach another.
    const name = this.#planExecutor.functionName;
    fn.addEnvironment(envVar('workflows.taskExecutors'), Stack.of(this).toJsonString({ read: name, write: name, internet: name }));
  }
}
