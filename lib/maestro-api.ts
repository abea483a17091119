import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { apiRoutes } from '../functions/handlers/api/routes.ts';
import type { ArtifactVault } from './artifact-vault.ts';
import type { FunctionPlacement } from './isolated-network.ts';
import { MaestroFunction } from './maestro-function.ts';
import { acknowledgeGrant, acknowledgeNag, managedPolicyFinding } from './nag.ts';
import type { SynthesizedPack } from './pack-bundles.ts';
import type { StateTable } from './state-table.ts';
import { envVar } from '../functions/core/config/environment-variables.ts';

/** One HTTP route: an API Gateway resource path (`/runs/{id}`) and a method. */
export interface ApiRouteSpec {
  readonly method: string;
  readonly resource: string;
  readonly operation: string;
  /**
   * `link`: the route's credential is a signed approval link in its path, so API Gateway lets it
   * through unauthenticated and the handler verifies the link.
   *
   * @default - IAM
   */
  readonly auth?: 'link';
}

/** Properties of a {@link MaestroApi}. */
export interface MaestroApiProps {
  /** The state table the API reads and writes. */
  readonly stateTable: StateTable;
  /** The artifact vault (its name is passed to the API function). */
  readonly artifactVault: ArtifactVault;
  /** The run state machine the API starts, describes and stops. */
  readonly runStateMachine: sfn.IStateMachine;

  /**
   * The routes to expose, each a method on a resource path; all go to the one API function.
   *
   * @default - `apiRoutes` of `functions/handlers/api/routes.ts`
   */
  readonly routes?: readonly ApiRouteSpec[];

  /**
   * Role lists per IAM role ARN (an assumed-role session maps through its role) or user ARN
   * (`MAESTRO_IAM_ROLES`); a principal not listed is refused (403).
   *
   * @default - none: every IAM caller is refused until mapped
   */
  readonly iamRoles?: Readonly<Record<string, readonly string[]>>;

  /**
   * Steady-state requests per second the stage accepts before throttling (429).
   *
   * @default 50
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst of requests the stage accepts before throttling (429).
   *
   * @default 100
   */
  readonly throttlingBurstLimit?: number;

  /**
   * The stage name, the first segment of the URL path.
   *
   * @default 'v1'
   */
  readonly stageName?: string;

  /**
   * Whether to create the account-wide role that lets API Gateway write CloudWatch logs (needed for
   * access logs). Set false when the account already has one (`AWS::ApiGateway::Account`).
   *
   * @default true
   */
  readonly cloudWatchRole?: boolean;

  /**
   * How long access logs and function logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Where the API function runs in the VPC (IsolatedNetwork.isolatedPlacement()).
   *
   * @default - outside any VPC
   */
  readonly network?: FunctionPlacement;

  /**
   * Action packs the API function carries (it validates runs' tasks and lists the catalog).
   *
   * @default - none: the built-in actions only
   */
  readonly packs?: readonly SynthesizedPack[];
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const RESOURCE = /^\/([A-Za-z0-9._-]+|\{[A-Za-z0-9_]+\})(\/([A-Za-z0-9._-]+|\{[A-Za-z0-9_]+\}))*$|^\/$/;
const STAGE_NAME = /^[A-Za-z0-9_]{1,128}$/;

/**
 * Maestro's REST API: one method per route, each IAM-authenticated (SigV4) and proxied to a single
 * API function; a regional endpoint, stage access logs as JSON, throttling, X-Ray tracing.
 */
export class MaestroApi extends Construct {
  /** The REST API. */
  readonly api: apigateway.RestApi;
  /** The function that serves every route. */
  readonly handler: MaestroFunction;
  /** The deployed stage's name (a plain string: usable without depending on the deployment). */
  readonly stageName: string;
  /** The stage's access log group. */
  readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: MaestroApiProps) {
    super(scope, id);
    const routes: readonly ApiRouteSpec[] = props.routes ?? apiRoutes;
    validateRoutes(this, routes);
    const rateLimit = props.throttlingRateLimit ?? 50;
    const burstLimit = props.throttlingBurstLimit ?? 100;
    if (!(Number.isFinite(rateLimit) && rateLimit > 0)) {
      throw new Error(`MaestroApi ${this.node.path}: throttlingRateLimit must be a positive number, got ${String(rateLimit)}`);
    }
    if (!(Number.isInteger(burstLimit) && burstLimit > 0)) {
      throw new Error(`MaestroApi ${this.node.path}: throttlingBurstLimit must be a positive integer, got ${String(burstLimit)}`);
    }
    const stageName = props.stageName ?? 'v1';
    this.stageName = stageName;
    if (!STAGE_NAME.test(stageName)) {
      throw new Error(`MaestroApi ${this.node.path}: stageName must match ${STAGE_NAME}, got ${JSON.stringify(stageName)}`);
    }

    this.handler = new MaestroFunction(this, 'Function', {
      entry: 'functions/handlers/api.ts',
      description: 'Maestro HTTP API',
      stateTable: props.stateTable,
      artifactVault: props.artifactVault,
      logRetention: props.logRetention,
      network: props.network,
      packs: props.packs,
      environment: {
        [envVar('workflows.runStateMachineArn')]: props.runStateMachine.stateMachineArn,
        ...(props.iamRoles ? { [envVar('identity.iamRoles')]: JSON.stringify(props.iamRoles) } : {}),
      },
    });
    this.grantRunControl(this.handler, props.runStateMachine);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    this.api = new apigateway.RestApi(this, 'Resource', {
      restApiName: 'maestro',
      description: 'Maestro control plane API',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: props.cloudWatchRole ?? true,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
        metricsEnabled: true,
        // Execution logs of every method, errors only (no request or response data).
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
      },
    });

    // API Gateway refuses a request whose declared path parameters are missing before it reaches the
    // function; bodies and query strings are validated by the handler (zod), which names the field.
    const requestValidator = this.api.addRequestValidator('RequestValidator', {
      requestValidatorName: 'maestro-parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    // One integration for every method; no extra permission for the console's test invoke.
    const integration = new apigateway.LambdaIntegration(this.handler, { proxy: true, allowTestInvoke: false });
    for (const route of routes) {
      const resource = route.resource === '/' ? this.api.root : this.api.root.resourceForPath(route.resource);
      const pathParameters = [...route.resource.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const method = resource.addMethod(route.method, integration, {
        // Approval-link pages carry their own credential (a KMS-signed, single-use link); all else is IAM.
        authorizationType: route.auth === 'link' ? apigateway.AuthorizationType.NONE : apigateway.AuthorizationType.IAM,
        operationName: route.operation,
        requestValidator,
        requestParameters: Object.fromEntries(pathParameters.map((name) => [`method.request.path.${name}`, true])),
      });
      if (route.auth === 'link') {
        acknowledgeNag(
          method,
          {
            id: 'AwsSolutions-APIG4',
            reason: `${route.operation} is an approval-link route: its credential is the link itself (a token MAC-signed with a KMS HMAC key, bound to one approval, expiring at the approval deadline and spent on first use), verified by the handler; approvers clicking a link from email or Slack have no AWS credentials to sign with.`,
          },
          {
            id: 'AwsSolutions-COG4',
            reason: `${route.operation} is an approval-link route: no Cognito user pool by design; the request carries a KMS-signed, expiring, single-use approval link that the handler verifies.`,
          },
        );
      } else {
        acknowledgeNag(method, {
          id: 'AwsSolutions-COG4',
          reason: `${route.operation} uses IAM authorization (SigV4) by design: callers are AWS principals (operators, CI, other services), and the handler maps the principal ARN to roles (MAESTRO_IAM_ROLES); Maestro has no Cognito user pool.`,
        });
      }
    }

    acknowledgeNag(this.api.deploymentStage, {
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAFv2 web ACL yet: every route but the two approval-link routes needs a SigV4 signature, and the stage throttles (rate and burst limits). A web ACL (with its per-request cost) is left to deployments that expose the approval links widely.',
    });
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledgeNag(cloudWatchRole, {
        id: managedPolicyFinding('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
        reason:
          'The account-level role API Gateway writes access and execution logs with: AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for exactly that.',
      });
    }
  }

  /** The URL of the deployed stage. */
  get url(): string {
    return this.api.url;
  }

  /** Lets a principal call the API (`execute-api:Invoke` on every method of the deployed stage). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/*', this.api.deploymentStage.stageName)],
    });
  }

  /**
   * Start, list, describe, read the history of and stop executions of the run state machine.
   * Narrower than `grantRead`, which also allows `DescribeStateMachine`/`ListActivities` on `*`.
   */
  private grantRunControl(grantee: iam.IGrantable, stateMachine: sfn.IStateMachine): void {
    stateMachine.grantStartExecution(grantee);
    stateMachine.grant(grantee, 'states:ListExecutions', 'states:DescribeStateMachine');
    acknowledgeGrant(
      grantee,
      stateMachine.grantExecution(grantee, 'states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution', 'states:RedriveExecution'),
      'MaestroApi grantRunControl (grantExecution): execution names are chosen per run at runtime, so the resource is "execution:<run state machine name>:*", the executions of that one state machine.',
    );
  }
}

function validateRoutes(scope: Construct, routes: readonly ApiRouteSpec[]): void {
  if (routes.length === 0) throw new Error(`MaestroApi ${scope.node.path}: routes must not be empty`);
  const seen = new Set<string>();
  for (const route of routes) {
    if (!METHODS.has(route.method)) {
      throw new Error(`MaestroApi ${scope.node.path}: route ${JSON.stringify(route.operation)} has an unsupported method ${JSON.stringify(route.method)}`);
    }
    if (!RESOURCE.test(route.resource)) {
      throw new Error(`MaestroApi ${scope.node.path}: route ${JSON.stringify(route.operation)} has a malformed resource ${JSON.stringify(route.resource)}`);
    }
    const key = `${route.method} ${route.resource}`;
    if (seen.has(key)) throw new Error(`MaestroApi ${scope.node.path}: route ${JSON.stringify(key)} is declared twice`);
    seen.add(key);
  }
}
