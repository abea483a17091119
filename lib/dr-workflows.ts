import { Arn, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ArtifactVault } from './artifact-vault.ts';
import { AslStateMachine } from './asl-state-machine.ts';
import type { IsolatedNetwork } from './isolated-network.ts';
import { MaestroFunction } from './maestro-function.ts';
import { acknowledgeNag, acknowledgeWildcards, nagText } from './nag.ts';
import type { SigningKeys } from './signing-keys.ts';
import type { StateTable } from './state-table.ts';
import { envVar } from '../functions/core/config/environment-variables.ts';
import { DrTarget } from '../functions/core/dr/targets.ts';
import { WORKFLOWS, WORKFLOW_TASKS, tasksOf } from '../functions/handlers/workflow-tasks.ts';
import type { DrTaskId, TaskRight } from '../functions/handlers/workflow-tasks.ts';

/** A DR target as CDK declares it: the same fields as `MAESTRO_DR_TARGETS` (functions/core/dr/targets.ts). */
export interface DrTargetDeclaration {
  /** 1-63 lowercase letters, digits, hyphens. */
  readonly name: string;
  /** The environment whose guardrails and approvers decide whether a restore's flip needs a human. @default 'dev' */
  readonly environment?: string;
  /** DynamoDB tables (names) the target protects. @default - none */
  readonly tables?: readonly string[];
  /** S3 prefixes the target protects (`prefix` '' = the whole bucket). @default - none */
  readonly prefixes?: readonly { readonly bucket: string; readonly prefix?: string }[];
  /** Longest quiesce, in seconds. @default 600 */
  readonly maxQuiesceSeconds?: number;
  /** Backups on this EventBridge Scheduler expression (`rate(1 day)`, `cron(0 3 * * ? *)`). @default - no scheduled backups */
  readonly backupSchedule?: string;
  /** Scheduled restore tests of the newest complete backup (isolated copy, never the pointer). @default - none */
  readonly restoreTestSchedule?: string;
  /** Bytes per part before compression. @default 8 MiB */
  readonly partBytes?: number;
  /** @default 'gzip' */
  readonly compression?: 'gzip' | 'none' | 'auto';
  /** User-declared smoke tests (`{kind: 'item', name, table, key, expect}` or `{kind: 'object', name, bucket, key, contains}`), as in MAESTRO_DR_TARGETS. @default - none */
  readonly checks?: readonly Record<string, unknown>[];
}

/** Properties of {@link DrWorkflows}. */
export interface DrWorkflowsProps {
  readonly stateTable: StateTable;
  readonly artifactVault: ArtifactVault;
  readonly signingKeys: SigningKeys;
  /** The targets: what backups protect, and their schedules. */
  readonly targets: readonly DrTargetDeclaration[];
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Every DR function in the network's isolated subnets (no internet egress). @default - outside any VPC */
  readonly network?: IsolatedNetwork;
}

type Right = Extract<TaskRight, 'readTargets' | 'writeCopies' | 'readCopies' | 'deleteCopies' | 'readVault' | 'writeVault' | 'sign' | 'verify'>;

interface DrStep {
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly rights: readonly Right[];
}

export type DrStepName = DrTaskId;

/** The DR steps by construct id, from the tasks' manifest (functions/handlers/workflow-tasks.ts); the ASL placeholder is `${id}FunctionArn`. */
export const DR_STEPS = Object.fromEntries(
  WORKFLOW_TASKS.filter((task) => task.family === 'dr').map((task) => [
    task.id,
    {
      entry: task.entry,
      description: task.description,
      timeout: Duration.seconds(task.timeoutSeconds),
      ...('memorySize' in task ? { memorySize: task.memorySize } : {}),
      rights: task.rights as readonly Right[],
    },
  ]),
) as Readonly<Record<DrStepName, DrStep>>;

const SCHEDULE = /^(rate|cron|at)\(.+\)$/;
/** Restored copies: tables `<table>-r<12 hex>`, objects under `.maestro-dr/` of the same bucket (functions/core/dr/pointer.ts). */
const COPIES_PREFIX = '.maestro-dr/';

/**
 * Disaster recovery: the backup and restore state machines from `statemachines/dr-*.asl.json`, one
 * function per step with only the rights it needs (snapshot reads the targets, apply writes only new
 * copies, discard deletes only copies), and an EventBridge Scheduler schedule per target for backups
 * and restore tests.
 */
export class DrWorkflows extends Construct {
  readonly functions: Readonly<Record<DrStepName, MaestroFunction>>;
  readonly scheduledFunction: MaestroFunction;
  readonly backupStateMachine: sfn.StateMachine;
  readonly restoreStateMachine: sfn.StateMachine;
  readonly schedules: readonly scheduler.Schedule[];
  /** The environment every DR function and the API get. */
  readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: DrWorkflowsProps) {
    super(scope, id);
    validateTargets(this, props.targets);
    const targetsJson = Stack.of(this).toJsonString(
      props.targets.map((t) => ({
        name: t.name,
        ...(t.environment ? { environment: t.environment } : {}),
        tables: t.tables ?? [],
        prefixes: (t.prefixes ?? []).map((p) => ({ bucket: p.bucket, prefix: p.prefix ?? '' })),
        ...(t.maxQuiesceSeconds ? { maxQuiesceSeconds: t.maxQuiesceSeconds } : {}),
        ...(t.partBytes ? { partBytes: t.partBytes } : {}),
        ...(t.compression ? { compression: t.compression } : {}),
        ...(t.checks ? { checks: t.checks } : {}),
      })),
    );
    const common = {
      [envVar('dr.targets')]: targetsJson,
      [envVar('dr.manifestKeyId')]: props.signingKeys.manifestSigningKey.keyArn,
    };

    const functions = {} as Record<DrStepName, MaestroFunction>;
    for (const [name, step] of Object.entries(DR_STEPS) as [DrStepName, DrStep][]) {
      const fn = new MaestroFunction(this, `${name}Function`, {
        entry: step.entry,
        description: step.description,
        stateTable: props.stateTable,
        artifactVault: props.artifactVault,
        timeout: step.timeout,
        memorySize: step.memorySize,
        logRetention: props.logRetention,
        environment: common,
        network: props.network?.isolatedPlacement(),
      });
      for (const right of step.rights) this.#grant(fn, right, props);
      functions[name] = fn;
    }
    this.functions = functions;

    const machine = (machineId: string, workflow: 'dr-backup' | 'dr-restore') =>
      new AslStateMachine(this, machineId, {
        definitionFile: WORKFLOWS[workflow].file,
        functions: Object.fromEntries(tasksOf(workflow).map((task) => [task.placeholder, functions[task.id as DrStepName]])),
        logRetention: props.logRetention,
      }).stateMachine;
    this.backupStateMachine = machine('BackupStateMachine', 'dr-backup');
    this.restoreStateMachine = machine('RestoreStateMachine', 'dr-restore');
    this.environment = {
      ...common,
      [envVar('workflows.drBackupStateMachineArn')]: this.backupStateMachine.stateMachineArn,
      [envVar('workflows.drRestoreStateMachineArn')]: this.restoreStateMachine.stateMachineArn,
    };

    this.scheduledFunction = new MaestroFunction(this, 'ScheduledFunction', {
      entry: 'functions/handlers/dr/scheduled.ts',
      description: 'Maestro DR: start a scheduled backup or restore test',
      stateTable: props.stateTable,
      artifactVault: props.artifactVault,
      logRetention: props.logRetention,
      environment: this.environment,
      network: props.network?.isolatedPlacement(),
    });
    this.grantStartJobs(this.scheduledFunction);

    // The role schedules invoke the scheduled function with (the CDK would otherwise create a stack-level one).
    const scheduleRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Maestro DR: EventBridge Scheduler invokes the scheduled function',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    acknowledgeNag(scheduleRole, {
      id: `AwsSolutions-IAM5[Resource::${nagText(this, `${this.scheduledFunction.functionArn}:*`)}]`,
      reason: 'grantInvoke of the scheduled function to the schedules\' role: "<function ARN>:*" covers the versions and aliases of that one function.',
    });

    const schedules: scheduler.Schedule[] = [];
    for (const target of props.targets) {
      for (const [kind, expression] of [
        ['backup', target.backupSchedule],
        ['restore-test', target.restoreTestSchedule],
      ] as const) {
        if (!expression) continue;
        schedules.push(
          new scheduler.Schedule(this, `${kind === 'backup' ? 'Backup' : 'RestoreTest'}-${target.name}`, {
            description: `Maestro DR: ${kind} of ${target.name}`,
            schedule: scheduler.ScheduleExpression.expression(expression),
            target: new schedulerTargets.LambdaInvoke(this.scheduledFunction, {
              input: scheduler.ScheduleTargetInput.fromObject({ kind, target: target.name }),
              role: scheduleRole,
              retryAttempts: 2,
            }),
          }),
        );
      }
    }
    this.schedules = schedules;
  }

  /** What the API needs to request DR jobs and read their status: the environment and StartExecution on both machines. */
  grantStartJobs(fn: MaestroFunction): void {
    for (const [name, value] of Object.entries(this.environment)) fn.addEnvironment(name, value);
    this.backupStateMachine.grantStartExecution(fn);
    this.restoreStateMachine.grantStartExecution(fn);
  }

  #grant(fn: MaestroFunction, right: Right, props: DrWorkflowsProps): void {
    const stack = Stack.of(this);
    const tableArn = (name: string) => stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: name });
    const tables = props.targets.flatMap((t) => t.tables ?? []);
    const prefixes = props.targets.flatMap((t) => (t.prefixes ?? []).map((p) => ({ bucket: p.bucket, prefix: p.prefix ?? '' })));
    const buckets = [...new Set(prefixes.map((p) => p.bucket))];
    const bucketArn = (bucket: string) => Arn.format({ partition: stack.partition, service: 's3', region: '', account: '', resource: bucket }, stack);
    const add = (actions: string[], resources: string[], wildcardReason?: string) => {
      if (resources.length === 0) return;
      const statement = new iam.PolicyStatement({ actions, resources });
      fn.addToRolePolicy(statement);
      if (wildcardReason) acknowledgeWildcards(fn, [statement], wildcardReason);
    };
    const copyTables = `DR ${right}: restored copies are new tables named "<table>-r<12 hex>" at restore time, so "table/<table>-r*" names only the copies of the declared tables, never the live table.`;
    const copyObjects = `DR ${right}: restored objects are written under "${COPIES_PREFIX}" of the declared buckets with keys chosen at restore time, so ".../${COPIES_PREFIX}*" names only those copies, never the live objects.`;
    switch (right) {
      case 'readTargets':
        add(['dynamodb:DescribeTable', 'dynamodb:Scan'], tables.map(tableArn));
        add(['s3:ListBucket'], buckets.map(bucketArn));
        add(
          ['s3:GetObject'],
          prefixes.map((p) => `${bucketArn(p.bucket)}/${p.prefix}*`),
          `DR readTargets: a backup snapshots every object under each declared prefix, so the resource is "<bucket>/<prefix>*" (read-only, the declared prefixes only).`,
        );
        break;
      case 'writeCopies':
        add(
          ['dynamodb:CreateTable', 'dynamodb:DescribeTable', 'dynamodb:BatchWriteItem'],
          tables.map((t) => tableArn(`${t}-r*`)),
          copyTables,
        );
        add(
          ['s3:PutObject'],
          buckets.map((b) => `${bucketArn(b)}/${COPIES_PREFIX}*`),
          copyObjects,
        );
        break;
      case 'readCopies':
        add(
          ['dynamodb:DescribeTable', 'dynamodb:Scan', 'dynamodb:GetItem'],
          tables.map((t) => tableArn(`${t}-r*`)),
          copyTables,
        );
        add(['s3:ListBucket'], buckets.map(bucketArn));
        add(
          ['s3:GetObject'],
          buckets.map((b) => `${bucketArn(b)}/${COPIES_PREFIX}*`),
          copyObjects,
        );
        break;
      case 'deleteCopies':
        add(
          ['dynamodb:DeleteTable', 'dynamodb:DescribeTable'],
          tables.map((t) => tableArn(`${t}-r*`)),
          copyTables,
        );
        add(['s3:ListBucket'], buckets.map(bucketArn));
        add(
          ['s3:DeleteObject'],
          buckets.map((b) => `${bucketArn(b)}/${COPIES_PREFIX}*`),
          copyObjects,
        );
        break;
      case 'readVault':
        props.artifactVault.grantReadArtifacts(fn);
        break;
      case 'writeVault':
        props.artifactVault.grantWriteArtifacts(fn);
        break;
      case 'sign':
        props.signingKeys.grantSignManifests(fn);
        break;
      case 'verify':
        props.signingKeys.grantVerifyManifests(fn);
        break;
    }
  }
}

/** Validates the targets with the schema the handlers load them with (functions/core/dr/targets.ts), quoting the bad value. */
function validateTargets(scope: Construct, targets: readonly DrTargetDeclaration[]): void {
  const where = `DrWorkflows ${scope.node.path}`;
  const seen = new Set<string>();
  for (const target of targets) {
    if (seen.has(target.name)) throw new Error(`${where}: target ${JSON.stringify(target.name)} is declared twice`);
    seen.add(target.name);
  }
  for (const target of targets) {
    // Names and schedules resolved at deploy time cannot be checked here: a valid stand-in takes their place.
    const known = (value: string, standIn: string) => (Token.isUnresolved(value) ? standIn : value);
    const parsed = DrTarget.safeParse({
      ...target,
      name: known(target.name, 'token'),
      tables: target.tables?.map((table) => known(table, 'token-table')),
      prefixes: target.prefixes?.map((p) => ({ ...p, bucket: known(p.bucket, 'token-bucket') })),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join('.');
      const value = field ? issue.path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown> | undefined)?.[key], target) : undefined;
      throw new Error(`${where}: target ${JSON.stringify(target.name)}${field ? ` ${field} ${JSON.stringify(value)}` : ''}: ${issue.message}`);
    }
    for (const expression of [target.backupSchedule, target.restoreTestSchedule]) {
      if (expression !== undefined && !Token.isUnresolved(expression) && !SCHEDULE.test(expression)) {
        throw new Error(`${where}: schedule of ${target.name} must be rate(...), cron(...) or at(...), got ${JSON.stringify(expression)}`);
      }
    }
  }
}
