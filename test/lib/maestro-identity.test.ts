import { describe, expect, it } from 'vitest';
import { apiRoutes, familyOf } from '../../functions/handlers/api/routes.ts';
import { loadConfig } from '../../functions/handlers/shared/config.ts';
import { API_SCOPE } from '../../lib/maestro-identity.ts';
import { logicalId, synthMaestro } from './template-support.ts';

interface CfnResource {
  Type: string;
  Properties: Record<string, any>;
}

// Routes whose credential is not a token: the approval links, the webhook's signature; and the console's static files.
const LINK_OPERATIONS = new Set(['reviewApproval', 'decideByLink', 'receiveWebhook']);
const CONSOLE_OPERATIONS = new Set(['console', 'consoleAsset']);

describe('identity in AWS: SigV4 for machines, bearer tokens for people and agents', () => {
  // GIVEN the default stack
  const { stack, template } = synthMaestro();
  const resources: Record<string, CfnResource> = template.toJSON().Resources;
  const ofType = (type: string) => Object.values(resources).filter((resource) => resource.Type === type);
  const pathOf = (resourceId: any): string => {
    if (resourceId['Fn::GetAtt']?.[1] === 'RootResourceId') return '/';
    const resource = resources[resourceId.Ref]!;
    const parent = pathOf(resource.Properties.ParentId);
    return `${parent === '/' ? '' : parent}/${resource.Properties.PathPart}`;
  };
  const methodsOf = (api: object) => ofType('AWS::ApiGateway::Method').filter((method) => method.Properties.RestApiId?.Ref === logicalId(api as never));
  const apiEnv = resources[logicalId(stack.api.handler)]!.Properties.Environment.Variables as Record<string, unknown>;

  it('creates a Cognito user pool without self sign-up, with MFA required and the groups operators, approvers, admins', () => {
    const [pool] = ofType('AWS::Cognito::UserPool');
    expect(pool!.Properties).toMatchObject({ MfaConfiguration: 'ON', AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
    expect(pool!.Properties.Policies.PasswordPolicy.MinimumLength).toBeGreaterThanOrEqual(14);
    expect(
      ofType('AWS::Cognito::UserPoolGroup')
        .map((group) => group.Properties.GroupName)
        .sort(),
    ).toEqual(['admins', 'approvers', 'operators']);
    expect(
      ofType('AWS::Cognito::UserPoolResourceServer').map((server) => [
        server.Properties.Identifier,
        server.Properties.Scopes.map((scope: any) => scope.ScopeName),
      ]),
    ).toEqual([['maestro', ['api']]]);
    expect(ofType('AWS::Cognito::UserPoolDomain')).toHaveLength(1);
  });

  it("gives the console a public client (authorization code, no secret, back to the bearer API's /console/callback) and agents a client-credentials one", () => {
    const clients = ofType('AWS::Cognito::UserPoolClient');
    const consoleClient = clients.find((client) => client.Properties.ClientName === 'maestro-console')!;
    expect(consoleClient.Properties.AllowedOAuthFlows).toEqual(['code']);
    expect(consoleClient.Properties.GenerateSecret).toBeFalsy();
    // (the custom scope is the resource server's identifier joined with /api)
    const resourceServer = logicalId(stack.identity!.userPool!.node.findChild('ResourceServer') as never);
    expect(consoleClient.Properties.AllowedOAuthScopes.slice(0, 3)).toEqual(['openid', 'email', 'profile']);
    expect(JSON.stringify(consoleClient.Properties.AllowedOAuthScopes[3])).toContain(resourceServer);
    expect(JSON.stringify(consoleClient.Properties.AllowedOAuthScopes[3])).toContain('/api');
    const callback = JSON.stringify(consoleClient.Properties.CallbackURLs);
    expect(callback).toContain(logicalId(stack.api.bearerApi!));
    expect(callback).toContain('/v1/console/callback');
    const agentClient = clients.find((client) => client.Properties.ClientName === 'maestro-agents')!;
    expect(agentClient.Properties).toMatchObject({ AllowedOAuthFlows: ['client_credentials'], GenerateSecret: true });
    expect(JSON.stringify(agentClient.Properties.AllowedOAuthScopes)).toBe(JSON.stringify(consoleClient.Properties.AllowedOAuthScopes.slice(3)));
  });

  it("keeps every route of the SigV4 API on IAM (but the approval links, the webhook and the console's static files)", () => {
    const methods = methodsOf(stack.api.api);
    expect(methods).toHaveLength(apiRoutes.length);
    for (const method of methods) {
      const open = LINK_OPERATIONS.has(method.Properties.OperationName) || CONSOLE_OPERATIONS.has(method.Properties.OperationName);
      expect(method.Properties.AuthorizationType).toBe(open ? 'NONE' : 'AWS_IAM');
    }
  });

  it('serves the same routes on the bearer API, each checked by the Cognito authorizer for the maestro/api scope, plus the console unauthenticated', () => {
    const methods = methodsOf(stack.api.bearerApi!);
    const declared = methods.map((method) => `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId)}`).sort();
    expect(declared).toEqual(apiRoutes.map((route) => `${route.method} ${route.resource}`).sort());
    expect(declared).toEqual(expect.arrayContaining(['GET /console', 'GET /console/{asset}']));
    const [authorizer] = ofType('AWS::ApiGateway::Authorizer');
    expect(authorizer!.Properties).toMatchObject({ Type: 'COGNITO_USER_POOLS', IdentitySource: 'method.request.header.Authorization' });
    for (const method of methods) {
      const operation = method.Properties.OperationName;
      if (LINK_OPERATIONS.has(operation) || CONSOLE_OPERATIONS.has(operation)) {
        expect(method.Properties.AuthorizationType, operation).toBe('NONE');
        continue;
      }
      expect(method.Properties, operation).toMatchObject({ AuthorizationType: 'COGNITO_USER_POOLS', AuthorizationScopes: [API_SCOPE] });
      // (the same functions behind both APIs)
      const route = apiRoutes.find((candidate) => candidate.operation === operation)!;
      expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(logicalId(familyOf(route) === 'ops' ? stack.api.opsHandler : stack.api.handler));
    }
    expect(methods.find((method) => method.Properties.OperationName === 'mcp')?.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
  });

  it("has the function verify the pool's tokens again (MAESTRO_OIDC), answer /mcp on both APIs' hosts, and refuse development tokens", () => {
    const oidc = JSON.stringify(apiEnv.MAESTRO_OIDC);
    expect(oidc).toContain('https://cognito-idp.');
    expect(oidc).toContain(logicalId(stack.identity!.userPool!));
    expect(oidc).toContain('cognito:groups');
    expect(oidc).toContain(logicalId(stack.identity!.consoleClient!));
    expect(oidc).toContain(logicalId(stack.identity!.agentClient!));
    const hosts = JSON.stringify(apiEnv.MAESTRO_MCP_ALLOWED_HOSTS);
    expect(hosts).toContain(logicalId(stack.api.api));
    expect(hosts).toContain(logicalId(stack.api.bearerApi!));
    // Every function runs with authMode iam, and the loader refuses dev-tokens in Lambda whatever the template says.
    for (const fn of ofType('AWS::Lambda::Function')) expect(fn.Properties.Environment?.Variables?.MAESTRO_AUTH_MODE).toBe('iam');
    expect(() => loadConfig({ MAESTRO_STATE_TABLE: 'maestro-state', MAESTRO_AUTH_MODE: 'dev-tokens', AWS_LAMBDA_FUNCTION_NAME: 'maestro-api' })).toThrow(
      /refused in Lambda/,
    );
  });

  it('takes any OpenID issuer instead (no user pool; the function verifies against that issuer)', () => {
    const issuer = { issuerUrl: 'https://login.example.com/oauth2/default', audience: 'api://maestro', groupRoles: { 'ops-team': 'operator' } };
    const { stack: other, template: otherTemplate } = synthMaestro({ identity: { issuer } });
    const otherResources: Record<string, CfnResource> = otherTemplate.toJSON().Resources;
    expect(Object.values(otherResources).filter((resource) => resource.Type.startsWith('AWS::Cognito::'))).toEqual([]);
    const env = otherResources[logicalId(other.api.handler)]!.Properties.Environment.Variables;
    expect(JSON.parse(env.MAESTRO_OIDC)).toEqual({
      issuer: issuer.issuerUrl,
      audience: 'api://maestro',
      groupsClaim: 'groups',
      groupRoles: { 'ops-team': 'operator' },
      agentClients: [],
    });
    const bearer = Object.values(otherResources).filter(
      (resource) => resource.Type === 'AWS::ApiGateway::Method' && resource.Properties.RestApiId?.Ref === logicalId(other.api.bearerApi!),
    );
    expect(new Set(bearer.map((method) => method.Properties.AuthorizationType))).toEqual(new Set(['NONE']));
  });

  it('deploys the SigV4 API alone with identity: false', () => {
    const { stack: other, template: otherTemplate } = synthMaestro({ identity: false });
    expect(other.api.bearerApi).toBeUndefined();
    expect(Object.keys(otherTemplate.findResources('AWS::ApiGateway::RestApi'))).toHaveLength(1);
    expect(Object.keys(otherTemplate.findResources('AWS::Cognito::UserPool'))).toHaveLength(0);
  });
});
