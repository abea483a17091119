import { describe, expect, it } from 'vitest';
import { apiRoutes, familyOf } from '../../functions/handlers/api/routes.ts';
import { MaestroApi } from '../../lib/maestro-api.ts';
import { allowedActions, allows, arnOf, logicalId, synthMaestro } from './template-support.ts';

interface CfnResource {
  Type: string;
  Properties: Record<string, any>;
}

describe('MaestroApi', () => {
  // GIVEN the Maestro stack
  const { stack, template } = synthMaestro();
  const api = stack.api;
  const resources: Record<string, CfnResource> = template.toJSON().Resources;
  // The SigV4 API's methods (the bearer API's are in maestro-identity.test.ts).
  const methods = (Object.values(template.findResources('AWS::ApiGateway::Method')) as CfnResource[]).filter(
    (method) => method.Properties.RestApiId?.Ref === logicalId(api.api),
  );

  /** The path of an API Gateway resource id (`{Ref}` of a resource, or the API's root). */
  function pathOf(resourceId: any): string {
    if (resourceId['Fn::GetAtt']?.[1] === 'RootResourceId') return '/';
    const resource = resources[resourceId.Ref];
    const parent = pathOf(resource.Properties.ParentId);
    return `${parent === '/' ? '' : parent}/${resource.Properties.PathPart}`;
  }

  it('has exactly one method per route of apiRoutes', () => {
    // THEN
    const declared = methods.map((method) => `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId)}`).sort();
    expect(declared).toStrictEqual(apiRoutes.map((route) => `${route.method} ${route.resource}`).sort());
  });

  it("authenticates every method with IAM, but the approval-link pages, the webhook and the console's static files, and proxies it to its family's function", () => {
    for (const method of methods) {
      // THEN
      const linkPage = ['reviewApproval', 'decideByLink', 'receiveWebhook', 'console', 'consoleAsset'].includes(method.Properties.OperationName);
      expect(method.Properties.AuthorizationType).toBe(linkPage ? 'NONE' : 'AWS_IAM');
      expect(method.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      const route = apiRoutes.find((candidate) => candidate.operation === method.Properties.OperationName)!;
      const [serving, other] = familyOf(route) === 'ops' ? [api.opsHandler, api.handler] : [api.handler, api.opsHandler];
      expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(JSON.stringify(arnOf(serving)));
      expect(JSON.stringify(method.Properties.Integration.Uri)).not.toContain(JSON.stringify(arnOf(other)));
    }
    // Both functions serve routes.
    expect(apiRoutes.some((route) => familyOf(route) === 'ops')).toBe(true);
    expect(apiRoutes.some((route) => familyOf(route) === 'runs')).toBe(true);
  });

  it('lets API Gateway invoke the function through this API alone, with one permission (not one per method: the stack stays under 500 resources)', () => {
    // THEN
    for (const fn of api.handlers) {
      const permissions = Object.values(
        template.findResources('AWS::Lambda::Permission', {
          Properties: { FunctionName: arnOf(fn) },
        }),
      ).filter((permission) => JSON.stringify(permission.Properties.SourceArn).includes(`"${logicalId(api.api)}"`)) as CfnResource[];
      expect(permissions).toHaveLength(1);
      expect(permissions[0].Properties.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(permissions[0].Properties.SourceArn)).toContain('/*/*/*');
    }
  });

  it('logs access as JSON, traces, and throttles at 50 rps with bursts of 100 on a regional endpoint', () => {
    // GIVEN
    const stages = (Object.values(template.findResources('AWS::ApiGateway::Stage')) as CfnResource[]).filter(
      (stage) => stage.Properties.RestApiId?.Ref === logicalId(api.api),
    );
    expect(stages).toHaveLength(1);
    const stage = stages[0].Properties;

    // THEN
    expect(stage).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }],
    });
    expect(JSON.stringify(stage.AccessLogSetting.DestinationArn)).toContain(logicalId(api.accessLogGroup));
    expect(JSON.parse(stage.AccessLogSetting.Format)).toMatchObject({ requestId: '$context.requestId', user: '$context.identity.user' });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
  });

  it('runs the API function on Node.js 24 with the state machine ARN in its environment', () => {
    // THEN
    expect(resources[logicalId(api.handler)].Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          MAESTRO_RUN_STATE_MACHINE_ARN: { Ref: logicalId(stack.runWorkflow.stateMachine) },
          MAESTRO_STATE_TABLE: { Ref: logicalId(stack.stateTable.table) },
          MAESTRO_ARTIFACT_BUCKET: { Ref: logicalId(stack.artifactVault.bucket) },
          POWERTOOLS_SERVICE_NAME: 'maestro',
          MAESTRO_AUTH_MODE: 'iam',
        },
      },
    });
  });

  it('lets the API function start, describe and stop runs and read and write the state table, nothing on *', () => {
    // GIVEN
    const role = logicalId(api.handler.role!);
    const machine = { Ref: logicalId(stack.runWorkflow.stateMachine) };
    const executions = {
      'Fn::Join': ['', ['arn:aws:states:eu-west-1:123456789012:execution:', { 'Fn::Select': [6, { 'Fn::Split': [':', machine] }] }, ':*']],
    };

    // THEN
    expect(allows(template, role, 'states:StartExecution', machine)).toBe(true);
    for (const action of ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution']) {
      expect(allows(template, role, action, executions), action).toBe(true);
    }
    expect(allows(template, role, 'dynamodb:PutItem', arnOf(stack.stateTable.table))).toBe(true);
    expect(
      allowedActions(template, role)
        .filter((pair) => pair.resource === '"*"')
        .map((pair) => pair.action),
    ).toStrictEqual([
      // X-Ray segments have no resource-level permissions
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  /** A second MaestroApi with these routes, in a stack of its own. */
  const secondApi = (routes: ConstructorParameters<typeof MaestroApi>[2]['routes']) => {
    const { stack: other } = synthMaestro();
    return new MaestroApi(other, 'Second', {
      stateTable: other.stateTable,
      artifactVault: other.artifactVault,
      runStateMachine: other.runWorkflow.stateMachine,
      routes,
    });
  };

  it('refuses a route declared twice, quoting it', () => {
    expect(() => secondApi([...apiRoutes, { method: 'GET', resource: '/runs', operation: 'listRunsAgain' }])).toThrow('route "GET /runs" is declared twice');
  });

  it('refuses a route of an unknown family, naming it', () => {
    expect(() => secondApi([{ method: 'GET', resource: '/runs', operation: 'listRuns', family: 'admin' as 'ops' }])).toThrow(
      'route "listRuns" has an unknown family "admin" (runs or ops)',
    );
  });
});
