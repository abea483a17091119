import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ArtifactVault } from './artifact-vault.ts';
import type { FunctionPlacement } from './isolated-network.ts';
import { MaestroFunction } from './maestro-function.ts';
import { acknowledgeNag, nagText } from './nag.ts';
import type { StateTable } from './state-table.ts';
import { envVar } from '../functions/core/config/environment-variables.ts';
import { TriggersSection } from '../functions/core/triggers/trigger-model.ts';
import type { TriggerDefinition } from '../functions/core/triggers/trigger-model.ts';
import { formatIssues } from '../functions/core/validation.ts';
import { declaredTriggers } from '../functions/handlers/triggers/templates-folder.ts';

/** Properties of {@link MaestroTriggers}. */
export interface MaestroTriggersProps {
  /** The state table (templates, triggers, firings, runs). */
  readonly stateTable: StateTable;
  /** The artifact vault (its name only, as every Maestro function gets it). @default - none */
  readonly artifactVault?: ArtifactVault;
  /** The run state machine a firing starts. */
  readonly runStateMachine: sfn.IStateMachine;
  /**
   * The schedule and event triggers, as maestro.config.yaml declares them (`triggers`); validated at
   * synth, the bad value quoted. Webhook triggers need no resource here (their route is the API's).
   *
   * @default - none
   */
  readonly triggers?: readonly unknown[];
  /** The bus event triggers' rules listen on (AWS services' events arrive on the default bus). @default - the account's default bus */
  readonly eventBus?: events.IEventBus;
  /** @default - placement of MaestroFunction */
  readonly network?: FunctionPlacement;
  /** @default - as MaestroFunction */
  readonly logRetention?: logs.RetentionDays;
}

/** The `triggers` of a maestro.config.yaml (validated by MaestroTriggers). */
export const configuredTriggers = declaredTriggers;

/** EventBridge pattern keys of the event envelope, as the CDK's EventPattern names them. */
const ENVELOPE_KEYS: ReadonlyMap<string, keyof events.EventPattern> = new Map([
  ['version', 'version'],
  ['id', 'id'],
  ['detail-type', 'detailType'],
  ['source', 'source'],
  ['account', 'account'],
  ['time', 'time'],
  ['region', 'region'],
  ['resources', 'resources'],
  ['detail', 'detail'],
]);

/**
 * Triggers in AWS: the trigger function (functions/handlers/triggers/fire.ts, which fires each
 * trigger at most once per scheduled time or event id), an EventBridge Scheduler schedule per
 * declared schedule trigger, a one-minute tick for the API's schedule triggers and the overlap queue,
 * and an EventBridge rule per declared event trigger. The schedules' role may invoke this function
 * only; the rules invoke it through a resource policy bound to each rule.
 */
export class MaestroTriggers extends Construct {
  readonly function: MaestroFunction;
  readonly schedules: readonly scheduler.Schedule[];
  readonly rules: readonly events.Rule[];
  readonly schedulerRole: iam.Role;

  constructor(scope: Construct, id: string, props: MaestroTriggersProps) {
    super(scope, id);
    const parsed = TriggersSection.safeParse(props.triggers ?? []);
    if (!parsed.success) {
      throw new Error(`MaestroTriggers: invalid triggers: ${formatIssues(parsed.error.issues)} (in ${JSON.stringify(props.triggers)})`);
    }
    const triggers: readonly TriggerDefinition[] = parsed.data;

    this.function = new MaestroFunction(this, 'FireFunction', {
      entry: 'functions/handlers/triggers/fire.ts',
      description: 'Maestro: fire a trigger (schedule, event) once per scheduled time or event id, creating its run from its template',
      stateTable: props.stateTable,
      artifactVault: props.artifactVault,
      logRetention: props.logRetention,
      network: props.network,
      environment: { [envVar('workflows.runStateMachineArn')]: props.runStateMachine.stateMachineArn },
    });
    props.runStateMachine.grantStartExecution(this.function);

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Maestro triggers: EventBridge Scheduler invokes the trigger function',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    acknowledgeNag(this.schedulerRole, {
      id: `AwsSolutions-IAM5[Resource::${nagText(this, `${this.function.functionArn}:*`)}]`,
      reason: 'grantInvoke of the trigger function to the schedules\' role: "<function ARN>:*" covers the versions and aliases of that one function.',
    });
    const invoke = (input: Record<string, unknown>) =>
      new schedulerTargets.LambdaInvoke(this.function, { input: scheduler.ScheduleTargetInput.fromObject(input), role: this.schedulerRole, retryAttempts: 3 });

    const schedules: scheduler.Schedule[] = [
      // The API's schedule triggers (and queued firings): checked every minute, each time fired once.
      new scheduler.Schedule(this, 'Tick', {
        description: 'Maestro triggers: the schedule triggers created through the API, and the overlap queue',
        schedule: scheduler.ScheduleExpression.expression('rate(1 minute)'),
        target: invoke({ kind: 'tick' }),
      }),
    ];
    const rules: events.Rule[] = [];
    for (const trigger of triggers) {
      if (trigger.kind === 'schedule') {
        schedules.push(
          new scheduler.Schedule(this, `Schedule-${trigger.id}`, {
            description: `Maestro trigger ${trigger.id}: template ${trigger.template.name}`,
            schedule: scheduler.ScheduleExpression.expression(trigger.schedule),
            target: invoke({ kind: 'schedule', triggerId: trigger.id, scheduledTime: '<aws.scheduler.scheduled-time>' }),
          }),
        );
      } else if (trigger.kind === 'event') {
        const pattern: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(trigger.pattern)) {
          const name = ENVELOPE_KEYS.get(key);
          if (!name) throw new Error(`MaestroTriggers: trigger ${trigger.id}: pattern field "${key}" is not a field of the event envelope`);
          pattern[name] = value;
        }
        const rule = new events.Rule(this, `Rule-${trigger.id}`, {
          description: `Maestro trigger ${trigger.id}: template ${trigger.template.name}`,
          eventBus: props.eventBus,
          eventPattern: pattern as events.EventPattern,
        });
        rule.addTarget(
          new eventTargets.LambdaFunction(this.function, {
            event: events.RuleTargetInput.fromObject({ kind: 'event', triggerId: trigger.id, event: events.EventField.fromPath('$') }),
            retryAttempts: 3,
          }),
        );
        rules.push(rule);
      }
    }
    this.schedules = schedules;
    this.rules = rules;
  }
}
