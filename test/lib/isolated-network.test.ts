import { readFileSync } from 'node:fs';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { IsolatedNetwork } from '../../lib/isolated-network.ts';
import { logicalId, testApp } from './template-support.ts';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** GIVEN the network with one function in isolated subnets and one on the controlled egress path. */
function networkStack(options: { nag?: boolean } = {}) {
  const app = testApp();
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Network', { env: ENV });
  const network = new IsolatedNetwork(stack, 'Network', { egressAllowedDomains: ['api.example.com', '*.example.org'] });
  const functions = {
    isolated: new lambda.Function(stack, 'IsolatedFunction', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1;'),
      ...network.isolatedPlacement(),
    }),
    fetch: new lambda.Function(stack, 'FetchFunction', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1;'),
      ...network.controlledEgressPlacement(),
    }),
  };
  for (const fn of Object.values(functions)) {
    // These stand-ins use the CDK's default Lambda role, exactly as MaestroFunction does.
    for (const policy of ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole']) {
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}]`,
        reason: `${policy} is the minimal AWS-maintained policy for ${policy.includes('VPC') ? 'the ENIs of a function in a VPC' : "a function's own log stream"}.`,
      });
    }
  }
  return { app, stack, network, functions };
}

describe('IsolatedNetwork', () => {
  const { stack, network, functions } = networkStack();
  const template = Template.fromStack(stack);
  const routes = Object.values(template.findResources('AWS::EC2::Route'));
  const subnetIds = (group: string) => network.vpc.selectSubnets({ subnetGroupName: group }).subnets.map((subnet) => logicalId(subnet));

  it('gives isolated subnets no route to the internet: no NAT, no internet gateway', () => {
    // THEN: every default route belongs to a public or Egress subnet's route table, none to an Isolated one
    const isolatedTables = subnetIds('Isolated').map((id) => id.replace(/Subnet\w*$/, ''));
    for (const route of routes) {
      const table = JSON.stringify(route.Properties.RouteTableId);
      expect(
        isolatedTables.some((prefix) => table.includes(prefix)),
        table,
      ).toBe(false);
    }
    expect(routes.length).toBeGreaterThan(0);
  });

  it('has exactly one NAT gateway, and only the Egress subnets route through it', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    const natRoutes = routes.filter((route) => route.Properties.NatGatewayId);
    expect(natRoutes.length).toBe(subnetIds('Egress').length);
    for (const route of natRoutes) expect(JSON.stringify(route.Properties.RouteTableId)).toMatch(/Egress/);
  });

  it('places functions where they belong: isolated functions in Isolated subnets, the fetch path in Egress subnets', () => {
    const subnetsOf = (fn: lambda.Function) => template.toJSON().Resources[logicalId(fn)].Properties.VpcConfig.SubnetIds.map((ref: { Ref: string }) => ref.Ref);
    expect(subnetsOf(functions.isolated).sort()).toEqual(subnetIds('Isolated').sort());
    expect(subnetsOf(functions.fetch).sort()).toEqual(subnetIds('Egress').sort());
  });

  it('creates gateway endpoints for DynamoDB and S3 and interface endpoints for KMS, Step Functions, EventBridge, SES, Logs, X-Ray and Lambda, each with a policy', () => {
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint'));
    const services = endpoints.map((endpoint) => JSON.stringify(endpoint.Properties.ServiceName));
    for (const service of ['dynamodb', 's3', 'kms', 'states', 'events', 'email', 'logs', 'xray', 'lambda']) {
      expect(
        services.some((name) => name.endsWith(`.${service}"`) || name.endsWith(`.${service}"]]}`)),
        `${service} in ${services.join(', ')}`,
      ).toBe(true);
    }
    expect(endpoints).toHaveLength(9);
    for (const endpoint of endpoints) {
      const statements = endpoint.Properties.PolicyDocument.Statement;
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) expect(statement.Condition.StringEquals['aws:PrincipalAccount']).toBe(ENV.account);
    }
  });

  it('lets isolated functions out on HTTPS only, the fetch path on HTTPS/HTTP only, and nothing in', () => {
    const groups = template.findResources('AWS::EC2::SecurityGroup');
    const egressPorts = (construct: { node: unknown }) =>
      groups[logicalId(construct as never)].Properties.SecurityGroupEgress.map((rule: { FromPort: number }) => rule.FromPort).sort();
    expect(egressPorts(network.isolatedSecurityGroup)).toEqual([443]);
    expect(egressPorts(network.egressSecurityGroup)).toEqual([443, 80]);
    for (const group of [network.isolatedSecurityGroup, network.egressSecurityGroup]) {
      expect(groups[logicalId(group)].Properties.SecurityGroupIngress).toBeUndefined();
    }
  });

  it('answers NXDOMAIN for every name outside AWS and the egress allowlist (DNS Firewall)', () => {
    template.hasResourceProperties('AWS::Route53Resolver::FirewallDomainList', {
      Domains: ['amazonaws.com', '*.amazonaws.com', 'api.example.com', '*.example.org'],
    });
    template.hasResourceProperties('AWS::Route53Resolver::FirewallRuleGroup', {
      FirewallRules: [Match.objectLike({ Priority: 100, Action: 'ALLOW' }), Match.objectLike({ Priority: 200, Action: 'BLOCK', BlockResponse: 'NXDOMAIN' })],
    });
    template.resourceCountIs('AWS::Route53Resolver::FirewallRuleGroupAssociation', 1);
  });

  it('logs every flow of the VPC', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', ResourceType: 'VPC' });
  });

  it('refuses a malformed egress domain at synth time, quoting it', () => {
    expect(() => new IsolatedNetwork(new Stack(testApp(), 'Bad', { env: ENV }), 'Network', { egressAllowedDomains: ['https://api.example.com/'] })).toThrow(
      /"https:\/\/api.example.com\/"/,
    );
  });
});

/** The cdk-nag violations of an app's synth (cdk-nag 3 reports through CDK's policy validation). */
function nagViolations(app: ReturnType<typeof testApp>): Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> {
  try {
    app.synth();
    return [];
  } catch (error) {
    const path = (error as Error).message.match(/found in: (\S+)/)?.[1];
    if (!path) throw error;
    return JSON.parse(readFileSync(path, 'utf8')).pluginReports.flatMap((report: { violations: unknown[] }) => report.violations);
  }
}

describe('cdk-nag AwsSolutions on the isolated network', () => {
  it('has zero unacknowledged findings (each acknowledgement carries its reason)', () => {
    const { app } = networkStack({ nag: true });
    expect(nagViolations(app).map((violation) => `${violation.ruleName} @ ${violation.violatingConstructs.map((c) => c.constructPath).join(', ')}`)).toEqual(
      [],
    );
  });

  it('would report a finding (so the check above can fail)', () => {
    const { app, stack } = networkStack({ nag: true });
    new lambda.Function(stack, 'Unacknowledged', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    });
    const paths = nagViolations(app).flatMap((violation) => violation.violatingConstructs.map((c) => c.constructPath));
    expect(paths).toContain('Network/Unacknowledged/ServiceRole/Resource');
  });
});
