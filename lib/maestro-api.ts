import { Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { apiRoutes, familyOf } from '../functions/handlers/api/routes.ts';
import type { ApiFamily } from '../functions/handlers/api/routes.ts';
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
   * through unauthenticated and the handler verifies the link. `signature`: a webhook, whose
   * credential is an HMAC over its body, verified by the handler.
   *
   * @default - IAM
   */
  readonly auth?: 'link' | 'signature' | 'public';
  /**
   * The function that serves the route: `ops` the operations API's (functions/handlers/ops-api.ts).
   *
   * @default 'runs' - the run API's (functions/handlers/api.ts)
   */
  readonly family?: ApiFamily;
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
   * The routes to expose, each a method on a resource path, each to its family's function.
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

  /**
   * A second REST API, for bearer tokens: the same routes to the same function, each checked by
   * API Gateway with this authorizer (a Cognito authorizer requiring `authorizationScopes`), plus
   * the console's pages (`/console`, `/console/{proxy+}`, unauthenticated: static assets, served by
   * the function with its Content-Security-Policy). The function verifies every token again against
   * `oidc` (jose). Machines keep the SigV4 API.
   *
   * @default - no bearer API: SigV4 only
   */
  readonly bearer?: BearerApiOptions;
}

/** The bearer API of a {@link MaestroApi}. */
export interface BearerApiOptions {
  /**
   * How API Gateway checks the tokens.
   *
   * @default - none: requests pass through, and the function is the only check
   */
  readonly authorizer?: apigateway.IAuthorizer;
  /**
   * The OAuth scopes an access token must carry (Cognito authorizer).
   *
   * @default - none
   */
  readonly authorizationScopes?: readonly string[];
  /** What the function verifies tokens against (`MAESTRO_OIDC`): issuer, audience, groups claim and mapping, agent clients. */
  readonly oidc: object;
}

/** The console's routes on the bearer API (unless the route list already has its operations). */
export const CONSOLE_ROUTES: readonly ApiRouteSpec[] = [
  { method: 'GET', resource: '/console', operation: 'console', auth: 'public' },
  { method: 'GET', resource: '/console/{proxy+}', operation: 'consoleAsset', auth: 'public' },
];

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const RESOURCE = /^\/([A-Za-z0-9._-]+|\{[A-Za-z0-9_]+\+?\})(\/([A-Za-z0-9._-]+|\{[A-Za-z0-9_]+\+?\}))*$|^\/$/;
const STAGE_NAME = /^[A-Za-z0-9_]{1,128}$/;

/**
 * Maestro's REST API: one method per route, each IAM-authenticated (SigV4) and proxied to its
 * family's function (the run API, or the operations API: two bundles, each with only its routes' code);
 * a regional endpoint, stage access logs as JSON, throttling, X-Ray tracing.
 */
export class MaestroApi extends Construct {
  /** The REST API. */
  readonly api: apigateway.RestApi;
  /** The function that serves the run API's routes: runs, approvals, control, the catalog, MCP, the console. */
  readonly handler: MaestroFunction;
  /** The function that serves the operations API's routes (`family: 'ops'`): DR, drift, the outbox, audit, subscriptions, templates, triggers, egress checks. */
  readonly opsHandler: MaestroFunction;
  /** Both functions. */
  readonly handlers: readonly MaestroFunction[];
  /** The deployed stage's name (a plain string: usable without depending on the deployment). */
  readonly stageName: string;
  /** The stage's access log group. */
  readonly accessLogGroup: logs.LogGroup;
  /** The bearer-token API (people and agents), when configured. */
  readonly bearerApi?: apigateway.RestApi;

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

    const functionProps = {
      stateTable: props.stateTable,
      artifactVault: props.artifactVault,
      logRetention: props.logRetention,
      network: props.network,
      packs: props.packs,
      environment: {
        [envVar('workflows.runStateMachineArn')]: props.runStateMachine.stateMachineArn,
        ...(props.iamRoles ? { [envVar('identity.iamRoles')]: JSON.stringify(props.iamRoles) } : {}),
        ...(props.bearer ? { [envVar('identity.oidc')]: Stack.of(this).toJsonString(props.bearer.oidc) } : {}),
      },
    };
    this.handler = new MaestroFunction(this, 'Function', {
      ...functionProps,
      entry: 'functions/handlers/api.ts',
      // The console's built page and scripts (npm run console:build, run before every synth).
      assetDirs: ['console/dist'],
      description: 'Maestro HTTP API: runs, approvals, control, the catalog, MCP, the console',
    });
    this.opsHandler = new MaestroFunction(this, 'OpsFunction', {
      ...functionProps,
      entry: 'functions/handlers/ops-api.ts',
      // The contract it serves, as generated (npm run docs:api; test/docs/api.test.ts keeps it current).
      assetFiles: ['docs/openapi.json'],
      description: 'Maestro HTTP API: DR, drift, the outbox, audit, subscriptions, templates, triggers, egress checks',
    });
    this.handlers = [this.handler, this.opsHandler];
    // Both start runs (templates, webhooks and drift remediation too) and read them.
    for (const fn of this.handlers) this.grantRunControl(fn, props.runStateMachine);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    const stage = { stageName, rateLimit, burstLimit };
    this.api = this.#restApi('Resource', 'maestro', 'Maestro control plane API (SigV4)', this.accessLogGroup, props, stage);
    this.#addRoutes(this.api, routes, { type: 'iam' });
    acknowledgeNag(this.api.deploymentStage, {
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAFv2 web ACL yet: every route but the two approval-link routes needs a SigV4 signature, and the stage throttles (rate and burst limits). A web ACL (with its per-request cost) is left to deployments that expose the approval links widely.',
    });

    // MCP answers only the hosts it is reached by (DNS-rebinding protection): the APIs' own.
    const hosts = [this.api];
    if (props.bearer) {
      const bearerLogs = new logs.LogGroup(this, 'BearerAccessLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
      this.bearerApi = this.#restApi('Bearer', 'maestro-bearer', 'Maestro control plane API (OIDC bearer tokens, the console)', bearerLogs, props, stage);
      const known = new Set(routes.map((route) => route.operation));
      const bearerRoutes = [...routes, ...CONSOLE_ROUTES.filter((route) => !known.has(route.operation))];
      validateRoutes(this, bearerRoutes);
      this.#addRoutes(this.bearerApi, bearerRoutes, { type: 'bearer', authorizer: props.bearer.authorizer, scopes: props.bearer.authorizationScopes });
      acknowledgeNag(this.bearerApi.deploymentStage, {
        id: 'AwsSolutions-APIG3',
        reason:
          "No WAFv2 web ACL yet: every route but the approval links and the console's static pages needs a bearer token that API Gateway checks (the authorizer) and the function verifies again, and the stage throttles (rate and burst limits).",
      });
      hosts.push(this.bearerApi);
    }
    this.handler.addEnvironment(
      'MAESTRO_MCP_ALLOWED_HOSTS',
      hosts.map((api) => `${api.restApiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`).join(','),
    );

    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledgeNag(cloudWatchRole, {
        id: managedPolicyFinding('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
        reason:
          'The account-level role API Gateway writes access and execution logs with: AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for exactly that.',
      });
    }
  }

  /** A regional REST API with JSON access logs, X-Ray, error-level execution logs and the stage's throttling. */
  #restApi(
    id: string,
    restApiName: string,
    description: string,
    accessLogs: logs.LogGroup,
    props: MaestroApiProps,
    stage: { stageName: string; rateLimit: number; burstLimit: number },
  ): apigateway.RestApi {
    return new apigateway.RestApi(this, id, {
      restApiName,
      description,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // The account-wide logging role is made once (with the SigV4 API).
      cloudWatchRole: id === 'Resource' ? (props.cloudWatchRole ?? true) : false,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName: stage.stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
        metricsEnabled: true,
        // Execution logs of every method, errors only (no request or response data).
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: stage.rateLimit,
        throttlingBurstLimit: stage.burstLimit,
      },
    });
  }

  /**
   * One method per route, each to its family's function. `iam`: SigV4 (approval links excepted). `bearer`:
   * the authorizer (Cognito, with the scopes) or, without one, the function's own verification;
   * approval links and the console's static pages are unauthenticated on both.
   */
  #addRoutes(
    api: apigateway.RestApi,
    routes: readonly ApiRouteSpec[],
    auth: { type: 'iam' } | { type: 'bearer'; authorizer?: apigateway.IAuthorizer; scopes?: readonly string[] },
  ): void {
    // API Gateway refuses a request whose declared path parameters are missing before it reaches the
    // function; bodies and query strings are validated by the handler (zod), which names the field.
    const requestValidator = api.addRequestValidator('RequestValidator', {
      requestValidatorName: 'maestro-parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    // One integration per function; no extra permission for the console's test invoke.
    const integrations = {
      runs: new apigateway.LambdaIntegration(this.handler, { proxy: true, scopePermissionToMethod: false }),
      ops: new apigateway.LambdaIntegration(this.opsHandler, { proxy: true, scopePermissionToMethod: false }),
    };
    for (const route of routes) {
      const resource = route.resource === '/' ? api.root : api.root.resourceForPath(route.resource);
      const pathParameters = [...route.resource.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const open = route.auth === 'link' || route.auth === 'signature' || route.auth === 'public';
      const bearer = auth.type === 'bearer' ? auth : undefined;
      const method = resource.addMethod(route.method, integrations[familyOf(route)], {
        // Approval-link pages carry their own credential (a KMS-signed, single-use link), the console's pages are static.
        ...(open
          ? { authorizationType: apigateway.AuthorizationType.NONE }
          : bearer
            ? bearer.authorizer
              ? {
                  authorizer: bearer.authorizer,
                  authorizationType: bearer.authorizer.authorizationType ?? apigateway.AuthorizationType.CUSTOM,
                  ...(bearer.scopes?.length ? { authorizationScopes: [...bearer.scopes] } : {}),
                }
              : { authorizationType: apigateway.AuthorizationType.NONE }
            : { authorizationType: apigateway.AuthorizationType.IAM }),
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
            reason: `${route.operation} is an approval-link route: no Cognito authorizer by design; the request carries a KMS-signed, expiring, single-use approval link that the handler verifies.`,
          },
        );
      } else if (route.auth === 'signature') {
        acknowledgeNag(
          method,
          {
            id: 'AwsSolutions-APIG4',
            reason: `${route.operation} is a webhook: its credential is an HMAC-SHA-256 signature over the raw body (X-Hub-Signature-256) under a per-trigger secret derived with a KMS HMAC key, with a signed timestamp window and replays refused; senders such as GitHub have no AWS credentials.`,
          },
          {
            id: 'AwsSolutions-COG4',
            reason: `${route.operation} is a webhook: no Cognito user pool by design; the handler verifies the body's HMAC signature and timestamp before anything is written.`,
          },
        );
      } else if (route.auth === 'public') {
        acknowledgeNag(
          method,
          {
            id: 'AwsSolutions-APIG4',
            reason: `${route.operation} serves the console's static pages and scripts (no data, a strict Content-Security-Policy); the console then signs in (authorization code + PKCE) and calls the API with bearer tokens.`,
          },
          { id: 'AwsSolutions-COG4', reason: `${route.operation} serves the console's static assets, which a browser loads before anyone has signed in.` },
        );
      } else if (bearer && !bearer.authorizer) {
        acknowledgeNag(
          method,
          {
            id: 'AwsSolutions-APIG4',
            reason: `${route.operation} takes bearer tokens of an external OpenID issuer: the function verifies each (jose against the issuer's JWKS: signature, iss, aud, exp/nbf, accepted algorithms) before anything else and refuses with 401; no Lambda authorizer was configured.`,
          },
          { id: 'AwsSolutions-COG4', reason: `${route.operation} takes tokens of an external OpenID issuer (not Cognito), verified by the function.` },
        );
      } else if (bearer && bearer.authorizer?.authorizationType !== apigateway.AuthorizationType.COGNITO) {
        acknowledgeNag(method, {
          id: 'AwsSolutions-COG4',
          reason: `${route.operation} takes tokens of an external OpenID issuer, checked by its Lambda authorizer and verified again by the function.`,
        });
      } else if (!bearer) {
        acknowledgeNag(method, {
          id: 'AwsSolutions-COG4',
          reason: `${route.operation} uses IAM authorization (SigV4) by design: callers are AWS principals (operators, CI, other services), and the handler maps the principal ARN to roles (MAESTRO_IAM_ROLES); people and agents use the bearer API.`,
        });
      }
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
    if (route.family !== undefined && route.family !== 'runs' && route.family !== 'ops') {
      throw new Error(
        `MaestroApi ${scope.node.path}: route ${JSON.stringify(route.operation)} has an unknown family ${JSON.stringify(route.family)} (runs or ops)`,
      );
    }
    const key = `${route.method} ${route.resource}`;
    if (seen.has(key)) throw new Error(`MaestroApi ${scope.node.path}: route ${JSON.stringify(key)} is declared twice`);
    seen.add(key);
  }
}
