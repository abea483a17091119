import { CfnOutput, Lazy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ApprovalGate } from './approval-gate.ts';
import { ArtifactVault } from './artifact-vault.ts';
import type { ArtifactVaultProps } from './artifact-vault.ts';
import { IsolatedNetwork } from './isolated-network.ts';
import type { IsolatedNetworkProps } from './isolated-network.ts';
import { DrWorkflows } from './dr-workflows.ts';
import type { DrTargetDeclaration } from './dr-workflows.ts';
import { DriftSchedules } from './drift-schedules.ts';
import type { DriftScheduleDeclaration } from './drift-schedules.ts';
import { MaestroApi } from './maestro-api.ts';
import { MaestroIdentity } from './maestro-identity.ts';
import type { ExternalIssuer } from './maestro-identity.ts';
import { ManagedTargets } from './managed-targets.ts';
import { Observability } from './observability.ts';
import { Outbox } from './outbox.ts';
import { packsOfConfigFile, synthesizePacks } from './pack-bundles.ts';
import type { SynthesizedPack } from './pack-bundles.ts';
import type { ManagedTargetsProps } from './managed-targets.ts';
import { RunWorkflow } from './run-workflow.ts';
import { SigningKeys } from './signing-keys.ts';
import { StateTable } from './state-table.ts';
import { MaestroTriggers, configuredTriggers } from './triggers.ts';
import { projectPath } from './project-paths.ts';
import { envVar } from '../functions/core/config/environment-variables.ts';
import { WORKFLOW_TASKS } from '../functions/handlers/workflow-tasks.ts';
import type { RunTaskId, TaskRight } from '../functions/handlers/workflow-tasks.ts';
import type { PackEntry } from '../functions/core/config/packs.ts';

/** Properties of a {@link MaestroStack}. */
export interface MaestroStackProps extends StackProps {
  /**
   * Options of the artifact vault (Object Lock retention and mode).
   *
   * @default - 30 days, governance mode
   */
  readonly artifactVault?: ArtifactVaultProps;

  /**
   * Existing buckets and tables that runs may act on, besides the demo ones.
   *
   * @default - the demo bucket and table only
   */
  readonly managedTargets?: ManagedTargetsProps;

  /**
   * Role lists per IAM role ARN or user ARN for the API; principals not listed are refused (403).
   *
   * @default - none
   */
  readonly iamRoles?: Readonly<Record<string, readonly string[]>>;

  /**
   * The isolated network (VPC endpoints, controlled egress for http.fetch, DNS Firewall allowlist).
   * `false` runs the functions outside any VPC (no NAT gateway or interface endpoints to pay for).
   *
   * @default - an IsolatedNetwork with no egress domains
   */
  readonly network?: IsolatedNetworkProps | false;

  /**
   * Disaster recovery targets (tables and S3 prefixes, with their backup and restore-test schedules).
   * When given, the stack gets the DR backup and restore workflows and the API may start them.
   *
   * @default - no DR workflows
   */
  readonly drTargets?: readonly DrTargetDeclaration[];

  /**
   * Drift sweeps, per environment (as `environments.<env>.drift.schedule` in maestro.config.yaml): an
   * EventBridge Scheduler schedule each, invoking the sweep function; the API may sweep on demand.
   *
   * @default - no drift schedules (POST /drift/sweeps then has no executor to plan with, and refuses)
   */
  readonly driftSchedules?: readonly DriftScheduleDeclaration[];

  /**
   * The base URL approval links point at: put the API behind a stable custom domain for production.
   *
   * @default - the API's execute-api URL
   */
  readonly publicUrl?: string;

  /**
   * A verified SES identity approval emails come from.
   *
   * @default - no approval emails through SES
   */
  readonly approvalEmailFrom?: string;

  /**
   * A Slack incoming-webhook URL for approval messages (posted through EventBridge).
   *
   * @default - no Slack messages
   */
  readonly slackWebhookUrl?: string;

  /**
   * Schedule and event triggers (EventBridge Scheduler schedules and rules invoking the trigger function).
   *
   * @default - the `triggers` of maestro.config.yaml
   */
  readonly triggers?: readonly unknown[];

  /**
   * The action packs to deploy, each `{name, module, version, sha256}` (a folder relative to the
   * repository root, or an npm package name). Each is hashed at synth (a pack whose content does not
   * match its pin fails the synth) and bundled into the API, every run step, and executors of its own.
   *
   * @default - the `packs` of the repository's maestro.config.yaml
   */
  readonly packs?: readonly PackEntry[];

  /**
   * Who people and agents are: bearer tokens on a second API (the console is served there too),
   * while machines keep SigV4 on the first. By default a Cognito user pool with the groups
   * operators, approvers and admins (lib/maestro-identity.ts); `issuer` takes any OpenID issuer
   * instead; `false` deploys the SigV4 API only.
   *
   * @default - a Cognito user pool
   */
  readonly identity?: { readonly issuer?: ExternalIssuer; readonly domainPrefix?: string } | false;
}

/** Maestro on AWS: state table, artifact vault, signing keys, managed targets, run workflow, API. */
export class MaestroStack extends Stack {
  readonly stateTable: StateTable;
  readonly artifactVault: ArtifactVault;
  readonly signingKeys: SigningKeys;
  readonly managedTargets: ManagedTargets;
  readonly network?: IsolatedNetwork;
  readonly runWorkflow: RunWorkflow;
  readonly api: MaestroApi;
  readonly drWorkflows?: DrWorkflows;
  readonly driftSchedules?: DriftSchedules;
  readonly observability: Observability;
  readonly outbox: Outbox;
  readonly approvalGate: ApprovalGate;
  readonly triggers: MaestroTriggers;
  /** Who people and agents are (the Cognito user pool, or the configured issuer). */
  readonly identity?: MaestroIdentity;
  /** The deployed action packs, as the synth verified them. */
  readonly packs: readonly SynthesizedPack[];

  constructor(scope: Construct, id: string, props: MaestroStackProps = {}) {
    super(scope, id, props);
    this.packs = synthesizePacks(props.packs ?? packsOfConfigFile());

    this.stateTable = new StateTable(this, 'StateTable');
    this.artifactVault = new ArtifactVault(this, 'ArtifactVault', props.artifactVault);
    this.signingKeys = new SigningKeys(this, 'SigningKeys');
    this.managedTargets = new ManagedTargets(this, 'ManagedTargets', {
      serverAccessLogsBucket: this.artifactVault.accessLogsBucket,
      ...props.managedTargets,
    });

    // With bearer tokens the API function fetches the issuer's discovery document and keys, so it
    // sits on the controlled egress path, and an external issuer's host joins the DNS allowlist
    // (Cognito's, under amazonaws.com, always resolves there).
    const issuerUrl = props.identity === false ? undefined : props.identity?.issuer?.issuerUrl;
    const issuerHost = issuerUrl === undefined ? undefined : hostOf(issuerUrl);
    this.network =
      props.network === false
        ? undefined
        : new IsolatedNetwork(this, 'Network', {
            ...props.network,
            ...(issuerHost ? { egressAllowedDomains: [...(props.network?.egressAllowedDomains ?? []), issuerHost] } : {}),
          });

    this.runWorkflow = new RunWorkflow(this, 'RunWorkflow', {
      network: this.network,
      stateTable: this.stateTable,
      artifactVault: this.artifactVault,
      managedTargets: this.managedTargets,
      packs: this.packs,
    });

    // The console's address comes from the bearer API, built just below (a lazy value: the sign-in
    // client names the console, the API function verifies the clients' tokens).
    let bearerConsoleUrl: string | undefined;
    this.identity =
      props.identity === false
        ? undefined
        : new MaestroIdentity(this, 'Identity', {
            issuer: props.identity?.issuer,
            domainPrefix: props.identity?.domainPrefix,
            consoleUrl: Lazy.string({ produce: () => bearerConsoleUrl }),
          });

    this.api = new MaestroApi(this, 'Api', {
      network: this.identity ? this.network?.controlledEgressPlacement() : this.network?.isolatedPlacement(),
      stateTable: this.stateTable,
      artifactVault: this.artifactVault,
      runStateMachine: this.runWorkflow.stateMachine,
      iamRoles: props.iamRoles,
      packs: this.packs,
      ...(this.identity
        ? { bearer: { authorizer: this.identity.authorizer, authorizationScopes: this.identity.authorizationScopes, oidc: this.identity.oidc } }
        : {}),
    });
    if (this.api.bearerApi) {
      // From the RestApi's id and the stage's name, not the deployed stage: that would be a dependency cycle.
      bearerConsoleUrl = `https://${this.api.bearerApi.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${this.api.stageName}/console`;
    }

    this.approvalGate = new ApprovalGate(this, 'ApprovalGate', {
      stateTable: this.stateTable,
      artifactVault: this.artifactVault,
      signingKeys: this.signingKeys,
      runStateMachine: this.runWorkflow.stateMachine,
      // The run API decides by link; the operations API derives webhook secrets with the same key.
      linkUsers: [this.runWorkflow.functions.RequestApproval, ...this.api.handlers],
      // From the RestApi's id and the stage's name, not the deployed stage: that would be a dependency cycle.
      publicUrl: props.publicUrl ?? `https://${this.api.api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${this.api.stageName}`,
      sesFrom: props.approvalEmailFrom,
      slackWebhookUrl: props.slackWebhookUrl,
      network: this.network?.isolatedPlacement(),
    });
    // Approvers deciding through the API answer the run's wait.
    this.runWorkflow.stateMachine.grantTaskResponse(this.api.handler);

    if (props.drTargets) {
      this.drWorkflows = new DrWorkflows(this, 'DrWorkflows', {
        stateTable: this.stateTable,
        artifactVault: this.artifactVault,
        signingKeys: this.signingKeys,
        targets: props.drTargets,
        network: this.network,
      });
      this.drWorkflows.grantStartJobs(this.api.opsHandler);
      this.#wireRestoreApprovals(this.drWorkflows);
    }

    if (props.driftSchedules) {
      this.driftSchedules = new DriftSchedules(this, 'Drift', {
        stateTable: this.stateTable,
        artifactVault: this.artifactVault,
        planExecutor: this.runWorkflow.executors.ExecuteRead,
        schedules: props.driftSchedules,
        network: this.network,
      });
      this.driftSchedules.grantSweep(this.api.opsHandler);
    }

    // Audit: the control-plane steps with the `sealAuditHeads` right sign checkpoints of the run's head at the status
    // changes they commit (Admit, RequestApproval) and Finalize the final head, each checking the
    // previous head first; the API reads and verifies them. The API (internet-facing) and the executing
    // steps hold no signing grant, so checkpoints are off there (MAESTRO_AUDIT_CHECKPOINTS=off).
    const sealers = WORKFLOW_TASKS.filter((task) => task.family === 'run' && (task.rights as readonly TaskRight[]).includes('sealAuditHeads')).map(
      (task) => this.runWorkflow.functions[task.id as RunTaskId],
    );
    for (const fn of sealers) {
      this.artifactVault.grantReadArtifacts(fn);
      this.artifactVault.grantWriteArtifacts(fn);
      this.signingKeys.grantSignManifests(fn);
      this.signingKeys.grantVerifyManifests(fn);
    }
    for (const fn of this.api.handlers) {
      this.artifactVault.grantReadArtifacts(fn);
      this.signingKeys.grantVerifyManifests(fn);
    }
    for (const fn of [...sealers, ...this.api.handlers]) fn.addEnvironment(envVar('audit.signingKey'), this.signingKeys.manifestSigningAlias);
    for (const fn of [...this.api.handlers, ...Object.values(this.runWorkflow.functions).filter((fn) => !sealers.includes(fn))])
      fn.addEnvironment(envVar('audit.checkpoints'), 'off');
    this.observability = new Observability(this, 'Observability', { runStateMachine: this.runWorkflow.stateMachine });
    // Outbox: stream → relay → EventBridge; the API lists and re-drives dead letters.
    this.outbox = new Outbox(this, 'Outbox', { stateTable: this.stateTable, artifactVault: this.artifactVault });
    this.outbox.grantPublish(this.api.opsHandler);

    this.triggers = new MaestroTriggers(this, 'Triggers', {
      stateTable: this.stateTable,
      artifactVault: this.artifactVault,
      runStateMachine: this.runWorkflow.stateMachine,
      triggers: props.triggers ?? configuredTriggers(projectPath('maestro.config.yaml')),
      network: this.network?.isolatedPlacement(),
    });

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the Maestro API (SigV4, execute-api)', value: this.api.url });
    if (this.api.bearerApi) {
      new CfnOutput(this, 'BearerApiUrl', {
        description: 'Base URL of the Maestro API for bearer tokens (people, agents, /mcp); the console is at <url>console',
        value: this.api.bearerApi.url,
      });
    }
    if (this.identity?.userPool) {
      new CfnOutput(this, 'UserPoolId', {
        description: 'The Cognito user pool people sign in to (groups operators, approvers, admins)',
        value: this.identity.userPool.userPoolId,
      });
      new CfnOutput(this, 'ConsoleClientId', {
        description: "The console's app client (authorization code + PKCE)",
        value: this.identity.consoleClient!.userPoolClientId,
      });
      new CfnOutput(this, 'AgentClientId', {
        description: "The agents' app client (client credentials, scope maestro/api)",
        value: this.identity.agentClient!.userPoolClientId,
      });
      new CfnOutput(this, 'SignInDomain', { description: 'The hosted sign-in domain', value: this.identity.domain!.baseUrl() });
    }
    new CfnOutput(this, 'RunStateMachineArn', { description: 'ARN of the run state machine', value: this.runWorkflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StateTableName', { description: 'Name of the state table', value: this.stateTable.tableName });
    new CfnOutput(this, 'ArtifactBucketName', { description: 'Name of the artifact vault bucket', value: this.artifactVault.bucketName });
  }

  /**
   * A restore that needs a human opens a Maestro approval run (functions/core/dr/restore-approval.ts):
   * its gate function starts runs; the run's ApplyTask and Finalize (and the API, for cancels) answer
   * the restore's wait, unsealing its token with the approval-link key.
   */
  #wireRestoreApprovals(dr: DrWorkflows): void {
    const gate = dr.functions.AwaitApproval;
    gate.addEnvironment(envVar('workflows.runStateMachineArn'), this.runWorkflow.stateMachine.stateMachineArn);
    // Separate policies, which the functions do not depend on: the two state machines invoke each
    // other's functions, and grants in the functions' default policies would make a dependency cycle.
    new iam.Policy(this, 'RestoreApprovalStartRunPolicy', {
      statements: [new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.runWorkflow.stateMachine.stateMachineArn] })],
    }).attachToRole(gate.role as iam.IRole);
    const answerers = [gate, this.runWorkflow.functions.ApplyTask, this.runWorkflow.functions.Finalize, this.api.handler];
    const answer = new iam.Policy(this, 'RestoreApprovalAnswerPolicy', {
      statements: [
        new iam.PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: [dr.restoreStateMachine.stateMachineArn] }),
      ],
    });
    for (const fn of answerers) {
      answer.attachToRole(fn.role as iam.IRole);
      this.signingKeys.grantSignApprovalLinks(fn);
      fn.addEnvironment(envVar('dr.targets'), dr.environment[envVar('dr.targets')]);
    }
  }
}

/** The host of an issuer URL (validated again, with a clearer message, by MaestroIdentity). */
function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
