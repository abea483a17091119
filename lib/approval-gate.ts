import { Duration, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ArtifactVault } from './artifact-vault.ts';
import { MaestroFunction } from './maestro-function.ts';
import type { MaestroFunctionProps } from './maestro-function.ts';
import type { SigningKeys } from './signing-keys.ts';
import type { StateTable } from './state-table.ts';
import { envVar } from '../functions/core/config/environment-variables.ts';

/** Properties of an {@link ApprovalGate}. */
export interface ApprovalGateProps {
  readonly stateTable: StateTable;
  readonly artifactVault: ArtifactVault;
  readonly signingKeys: SigningKeys;
  /** The run workflow, whose waits the gate answers. */
  readonly runStateMachine: sfn.IStateMachine;
  /** The functions that mint or check approval links and answer waits (request-approval, the API). */
  readonly linkUsers: readonly MaestroFunction[];
  /** The base URL approval links point at (a custom domain in production). */
  readonly publicUrl: string;
  /**
   * A verified SES identity approval emails come from.
   *
   * @default - no email through SES (Slack only, if configured)
   */
  readonly sesFrom?: string;
  /**
   * A Slack incoming-webhook URL. The functions have no internet route: they put the Block Kit
   * message on EventBridge, and a rule's API destination posts it here.
   *
   * @default - no Slack message
   */
  readonly slackWebhookUrl?: string;
  /**
   * How often the sweeper sends reminders and expires waits past their deadline.
   *
   * @default Duration.minutes(1)
   */
  readonly sweepEvery?: Duration;
  /** @default - outside any VPC */
  readonly network?: MaestroFunctionProps['network'];
}

/**
 * The approval gate's AWS side: KMS MAC rights for the link users, the settings they share, and the
 * sweeper (reminders at half time, EXPIRED at the deadline) on an EventBridge schedule.
 */
export class ApprovalGate extends Construct {
  readonly sweeper: MaestroFunction;

  constructor(scope: Construct, id: string, props: ApprovalGateProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.publicUrl) && !/^https?:\/\/[^/\s]+/.test(props.publicUrl)) {
      throw new Error(`ApprovalGate: publicUrl must be an http(s) URL, got "${props.publicUrl}"`);
    }
    const sweepEvery = props.sweepEvery ?? Duration.minutes(1);
    if (sweepEvery.toSeconds() < 60) throw new Error(`ApprovalGate: sweepEvery must be at least one minute, got ${sweepEvery.toSeconds()} s`);

    this.sweeper = new MaestroFunction(this, 'SweeperFunction', {
      entry: 'functions/handlers/approvals/sweep.ts',
      description: 'Approval reminders at half time, expiry at the deadline',
      stateTable: props.stateTable,
      artifactVault: props.artifactVault,
      timeout: Duration.minutes(1),
      network: props.network,
    });
    new events.Rule(this, 'SweepSchedule', {
      description: 'Maestro approval sweeper',
      schedule: events.Schedule.rate(sweepEvery),
      targets: [new targets.LambdaFunction(this.sweeper, { retryAttempts: 2 })],
    });
    props.runStateMachine.grantTaskResponse(this.sweeper);

    for (const fn of [...props.linkUsers, this.sweeper]) {
      props.signingKeys.grantSignApprovalLinks(fn);
      props.signingKeys.grantVerifyApprovalLinks(fn);
      fn.addEnvironment(envVar('approvals.publicUrl'), props.publicUrl);
      fn.addEnvironment(envVar('approvals.linkKey'), props.signingKeys.approvalLinksAlias);
      if (props.sesFrom) {
        fn.addEnvironment(envVar('approvals.sesFrom'), props.sesFrom);
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ses:SendEmail'],
            resources: [Stack.of(this).formatArn({ service: 'ses', resource: 'identity', resourceName: props.sesFrom })],
          }),
        );
      }
    }

    if (props.slackWebhookUrl) {
      // Slack webhooks need no credential; an API destination needs a connection, so it sends a harmless header.
      const connection = new events.Connection(this, 'SlackConnection', {
        description: 'Maestro approval messages to Slack',
        authorization: events.Authorization.apiKey('x-maestro-source', SecretValue.unsafePlainText('maestro-approvals')),
      });
      const destination = new events.ApiDestination(this, 'SlackDestination', {
        connection,
        endpoint: props.slackWebhookUrl,
        httpMethod: events.HttpMethod.POST,
        rateLimitPerSecond: 1,
      });
      new events.Rule(this, 'SlackMessages', {
        description: 'Maestro Block Kit messages to the Slack webhook',
        eventPattern: { source: ['maestro.notifications'], detailType: ['SlackMessage'] },
        targets: [new targets.ApiDestination(destination, { event: events.RuleTargetInput.fromEventPath('$.detail') })],
      });
      const bus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
      for (const fn of [...props.linkUsers, this.sweeper]) {
        fn.addEnvironment(envVar('approvals.slackEventBus'), 'default');
        bus.grantPutEventsTo(fn);
      }
    }
  }
}
