import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledgeNag } from './nag.ts';

/** An OpenID Connect issuer of your own (Okta, Entra ID, IAM Identity Center, Keycloak...) instead of the Cognito user pool. */
export interface ExternalIssuer {
  /** The issuer URL exactly as its tokens' `iss` says. */
  readonly issuerUrl: string;
  /** The `aud` a token must carry (the API's resource and/or the console's client id). */
  readonly audience: string | readonly string[];
  /**
   * The claim that carries the caller's groups.
   *
   * @default 'groups'
   */
  readonly groupsClaim?: string;
  /** Groups to Maestro roles (`{"ops": "operator", "leads": ["approver"]}`). */
  readonly groupRoles: Readonly<Record<string, string | readonly string[]>>;
  /**
   * OAuth clients whose client-credentials tokens are AI agents.
   *
   * @default - none
   */
  readonly agentClients?: readonly string[];
  /**
   * How API Gateway checks the bearer routes' tokens before the handler verifies them again: a
   * Lambda (TOKEN or REQUEST) authorizer of yours.
   *
   * @default - none: API Gateway passes bearer requests through, and the API function is the check
   * (jose against the issuer's JWKS: signature, `iss`, `aud`, `exp`/`nbf`, algorithms)
   */
  readonly authorizer?: apigateway.IAuthorizer;
}

/** Properties of a {@link MaestroIdentity}. */
export interface MaestroIdentityProps {
  /**
   * Any OpenID Connect issuer instead of the Cognito user pool.
   *
   * @default - a Cognito user pool with the groups operators, approvers and admins
   */
  readonly issuer?: ExternalIssuer;

  /**
   * The prefix of the user pool's hosted sign-in domain (`<prefix>.auth.<region>.amazoncognito.com`), unique in the region.
   *
   * @default `maestro-<account id>`
   */
  readonly domainPrefix?: string;

  /**
   * Where the console lives (its sign-in returns to `<consoleUrl>/callback`).
   * MaestroStack passes the bearer API's `/console`.
   */
  readonly consoleUrl: string;

  /**
   * What happens to the user pool when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The OAuth scope an access token needs on the bearer routes (the user pool's resource server `maestro`). */
export const API_SCOPE = 'maestro/api';

/** The user pool's groups and the Maestro roles each maps to. */
export const COGNITO_GROUP_ROLES = {
  operators: 'operator',
  approvers: 'approver',
  admins: ['operator', 'approver', 'admin'],
} as const satisfies Record<string, string | readonly string[]>;

/** The OIDC settings the API function verifies tokens with (`MAESTRO_OIDC`, `identity.oidc`). */
export interface OidcSettingsJson {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly groupsClaim: string;
  readonly groupRoles: Readonly<Record<string, string | readonly string[]>>;
  readonly agentClients: readonly string[];
}

/**
 * Who people and agents are in AWS. By default a Cognito user pool: no self sign-up, MFA required,
 * the groups operators, approvers and admins; a hosted sign-in domain; a public app client for the
 * console (authorization code with PKCE, no secret); a resource server `maestro` with the scope
 * `maestro/api`, and a confidential client for agents (client credentials). API Gateway checks the
 * bearer routes with a Cognito authorizer requiring that scope (access tokens), and the API function
 * verifies every token again with jose. Or any issuer by props.
 */
export class MaestroIdentity extends Construct {
  /** The user pool (the default issuer). */
  readonly userPool?: cognito.UserPool;
  /** The console's client (authorization code + PKCE). */
  readonly consoleClient?: cognito.UserPoolClient;
  /** The agents' client (client credentials; its secret stays in Cognito). */
  readonly agentClient?: cognito.UserPoolClient;
  /** The hosted sign-in domain. */
  readonly domain?: cognito.UserPoolDomain;
  /** How API Gateway checks the bearer routes' tokens (undefined: the function alone checks them). */
  readonly authorizer?: apigateway.IAuthorizer;
  /** The scopes an access token needs on the bearer routes (Cognito authorizer only). */
  readonly authorizationScopes?: readonly string[];
  /** What the API function verifies tokens against (MAESTRO_OIDC). */
  readonly oidc: OidcSettingsJson;

  constructor(scope: Construct, id: string, props: MaestroIdentityProps) {
    super(scope, id);
    if (props.issuer) {
      if (!/^https:\/\/[^\s/]+/.test(props.issuer.issuerUrl)) {
        throw new Error(`MaestroIdentity ${this.node.path}: issuer.issuerUrl must be an https URL, got ${JSON.stringify(props.issuer.issuerUrl)}`);
      }
      if (Object.keys(props.issuer.groupRoles).length === 0) {
        throw new Error(`MaestroIdentity ${this.node.path}: issuer.groupRoles must map at least one group (a token with no mapped group is refused)`);
      }
      this.authorizer = props.issuer.authorizer;
      this.oidc = {
        issuer: props.issuer.issuerUrl,
        audience: props.issuer.audience,
        groupsClaim: props.issuer.groupsClaim ?? 'groups',
        groupRoles: props.issuer.groupRoles,
        agentClients: props.issuer.agentClients ?? [],
      };
      return;
    }

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: 'maestro',
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    this.userPool = userPool;
    const planReason =
      "Threat protection (advanced security) needs the Plus feature plan, billed per active user; sign-in already requires MFA (TOTP), there is no self sign-up, and Maestro's own gates (Cedar, approvals by named identities, audit) apply to every signed-in caller.";
    acknowledgeNag(userPool, { id: 'AwsSolutions-COG3', reason: planReason }, { id: 'AwsSolutions-COG8', reason: planReason });

    const descriptions: Record<keyof typeof COGNITO_GROUP_ROLES, string> = {
      operators: 'Maestro operators: start, plan, cancel and roll back runs',
      approvers: 'Maestro approvers: approve or reject runs they may decide',
      admins: 'Maestro admins: the kill switch, freeze overrides, DR; also operators and approvers',
    };
    for (const [index, name] of (Object.keys(COGNITO_GROUP_ROLES) as (keyof typeof COGNITO_GROUP_ROLES)[]).entries()) {
      userPool.addGroup(`${name[0]!.toUpperCase()}${name.slice(1)}Group`, { groupName: name, description: descriptions[name], precedence: index });
    }

    const apiScope = new cognito.ResourceServerScope({ scopeName: 'api', scopeDescription: 'Call the Maestro API and its /mcp endpoint' });
    const resourceServer = userPool.addResourceServer('ResourceServer', {
      identifier: 'maestro',
      userPoolResourceServerName: 'Maestro API',
      scopes: [apiScope],
    });
    const customScope = cognito.OAuthScope.resourceServer(resourceServer, apiScope);

    this.domain = userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: props.domainPrefix ?? `maestro-${Aws.ACCOUNT_ID}` } });

    const tokenLifetimes = {
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    };
    // People: the console is a public client (a browser keeps no secret), so the authorization code
    // flow with PKCE; no implicit flow, no password flows.
    this.consoleClient = userPool.addClient('ConsoleClient', {
      userPoolClientName: 'maestro-console',
      generateSecret: false,
      authFlows: {},
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE, customScope],
        callbackUrls: [`${props.consoleUrl}/callback`],
        logoutUrls: [props.consoleUrl],
      },
      ...tokenLifetimes,
    });
    // Agents: a confidential client with client credentials, for the maestro/api scope only.
    this.agentClient = userPool.addClient('AgentClient', {
      userPoolClientName: 'maestro-agents',
      generateSecret: true,
      authFlows: {},
      oAuth: { flows: { clientCredentials: true }, scopes: [customScope] },
      ...tokenLifetimes,
      refreshTokenValidity: Duration.hours(1),
    });

    this.authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [userPool],
      authorizerName: 'maestro-cognito',
      identitySource: apigateway.IdentitySource.header('Authorization'),
    });
    this.authorizationScopes = [API_SCOPE];
    this.oidc = {
      issuer: `https://cognito-idp.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/${userPool.userPoolId}`,
      // Cognito's access tokens carry the app client in `client_id` (no `aud`), its ID tokens in `aud`.
      audience: [this.consoleClient.userPoolClientId, this.agentClient.userPoolClientId],
      groupsClaim: 'cognito:groups',
      groupRoles: COGNITO_GROUP_ROLES,
      agentClients: [this.agentClient.userPoolClientId],
    };
  }
}
