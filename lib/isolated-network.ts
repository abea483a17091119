import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53resolver from 'aws-cdk-lib/aws-route53resolver';
import { Construct } from 'constructs';

/** Properties of an {@link IsolatedNetwork}. */
export interface IsolatedNetworkProps {
  /**
   * How many Availability Zones the subnets span.
   *
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * The domains the controlled egress path may resolve (Route 53 Resolver DNS Firewall allowlist),
   * e.g. `['api.example.com', '*.example.org']`. AWS service names (`*.amazonaws.com`) always resolve,
   * so the VPC endpoints keep working. The same hosts belong in `MAESTRO_EGRESS_ALLOWLIST`, which the
   * fetch code enforces per URL, redirect and resolved address.
   *
   * @default - none: no name outside AWS resolves in the VPC
   */
  readonly egressAllowedDomains?: readonly string[];

  /**
   * How long VPC flow logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** Where a Lambda function goes in the network: its subnets and security groups. */
export interface FunctionPlacement {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

/** The AWS services the functions reach through interface endpoints, and what each endpoint lets through. */
const INTERFACE_ENDPOINTS = {
  Kms: {
    service: ec2.InterfaceVpcEndpointAwsService.KMS,
    actions: [
      'kms:Sign',
      'kms:Verify',
      'kms:GetPublicKey',
      'kms:GenerateMac',
      'kms:VerifyMac',
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'kms:DescribeKey',
    ],
  },
  StepFunctions: {
    service: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
    actions: [
      'states:StartExecution',
      'states:DescribeExecution',
      'states:StopExecution',
      'states:GetExecutionHistory',
      'states:SendTaskSuccess',
      'states:SendTaskFailure',
      'states:SendTaskHeartbeat',
      'states:ListExecutions',
    ],
  },
  EventBridge: { service: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE, actions: ['events:PutEvents'] },
  Ses: { service: ec2.InterfaceVpcEndpointAwsService.EMAIL, actions: ['ses:SendEmail', 'ses:SendRawEmail'] },
  Logs: { service: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:CreateLogGroup'] },
  XRay: {
    service: ec2.InterfaceVpcEndpointAwsService.XRAY,
    actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
  },
  // The run steps invoke the action executors (lib/run-workflow.ts), which hold the managed targets only.
  Lambda: { service: ec2.InterfaceVpcEndpointAwsService.LAMBDA, actions: ['lambda:InvokeFunction'] },
} as const;

/**
 * Maestro's network. Every function runs in **isolated subnets** (no route to the internet, no NAT)
 * and reaches AWS only through VPC endpoints whose policies admit this account's principals and the
 * actions Maestro uses: gateway endpoints for DynamoDB and S3, interface endpoints for KMS, Step
 * Functions, EventBridge, SES, CloudWatch Logs, X-Ray and Lambda (the run steps invoke the action executors).
 *
 * The fetch path alone has **controlled egress**: subnets named `Egress` whose only way out is one NAT
 * gateway (`EgressNat`), a security group that allows outbound HTTPS/HTTP only, and a Route 53 Resolver
 * DNS Firewall on the VPC that answers NXDOMAIN for every name outside `egressAllowedDomains` and AWS.
 * The fetch code's egress guard (allowlist, resolved-address checks, redirects) is the inner ring;
 * this is the outer one. A NAT + DNS Firewall was chosen over an explicit proxy: no proxy fleet to run
 * and patch, and the guard already pins each connection to a checked address. Network Firewall (SNI
 * filtering) can be added on the NAT path when a deployment needs it.
 */
export class IsolatedNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** For functions in isolated subnets: HTTPS out (only endpoints are routable), nothing in. */
  readonly isolatedSecurityGroup: ec2.SecurityGroup;
  /** For the fetch path: HTTPS and HTTP out through the NAT, nothing in. */
  readonly egressSecurityGroup: ec2.SecurityGroup;
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  readonly gatewayEndpoints: { readonly dynamodb: ec2.GatewayVpcEndpoint; readonly s3: ec2.GatewayVpcEndpoint };
  readonly interfaceEndpoints: Readonly<Record<keyof typeof INTERFACE_ENDPOINTS, ec2.InterfaceVpcEndpoint>>;

  constructor(scope: Construct, id: string, props: IsolatedNetworkProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    if (!Number.isInteger(maxAzs) || maxAzs < 1 || maxAzs > 6) throw new Error(`IsolatedNetwork ${id}: maxAzs must be 1-6, got ${maxAzs}`);
    const domains = [...(props.egressAllowedDomains ?? [])];
    for (const domain of domains) {
      if (!/^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,63}$/.test(domain))
        throw new Error(`IsolatedNetwork ${id}: egressAllowedDomains has ${JSON.stringify(domain)}, not a domain name (or *.domain)`);
    }
    const account = Stack.of(this).account;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs,
      natGateways: 1,
      // No custom-resource Lambda to strip the default security group: no function uses it, and every function gets its own.
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26, mapPublicIpOnLaunch: false },
        { name: 'Egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      natGatewayProvider: ec2.NatProvider.gateway(),
      gatewayEndpoints: {},
      flowLogs: {
        All: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', { retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH }),
          ),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
    const nat = this.vpc.publicSubnets.flatMap((subnet) => subnet.node.children).find((child) => child.node.id === 'NATGateway');
    if (nat) nat.node.addMetadata('maestro:role', 'EgressNat');

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      allowAllOutbound: false,
      description: 'Maestro VPC interface endpoints: HTTPS from Maestro functions only',
    });
    this.isolatedSecurityGroup = new ec2.SecurityGroup(this, 'IsolatedSecurityGroup', {
      vpc: this.vpc,
      allowAllOutbound: false,
      description: 'Maestro functions in isolated subnets: HTTPS to VPC endpoints only',
    });
    this.isolatedSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to VPC endpoints (isolated subnets have no other route)');
    this.egressSecurityGroup = new ec2.SecurityGroup(this, 'EgressSecurityGroup', {
      vpc: this.vpc,
      allowAllOutbound: false,
      description: 'Maestro fetch path: HTTPS/HTTP out through the NAT, DNS-filtered',
    });
    this.egressSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to allowlisted hosts (DNS Firewall + egress guard)');
    this.egressSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP to allowlisted hosts, where an environment allows it');
    for (const group of [this.isolatedSecurityGroup, this.egressSecurityGroup]) {
      this.endpointSecurityGroup.addIngressRule(group, ec2.Port.tcp(443), `HTTPS from ${group.node.id}`);
    }

    const sameAccount = { StringEquals: { 'aws:PrincipalAccount': account } };
    const dataEndpoint = (name: 'dynamodb' | 's3', service: ec2.GatewayVpcEndpointAwsService) => {
      const endpoint = this.vpc.addGatewayEndpoint(`${name === 's3' ? 'S3' : 'DynamoDb'}Endpoint`, { service });
      endpoint.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ThisAccountOnly',
          principals: [new iam.AnyPrincipal()],
          actions: [`${name}:*`],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:PrincipalAccount': account, 'aws:ResourceAccount': account } },
        }),
      );
      return endpoint;
    };
    this.gatewayEndpoints = {
      dynamodb: dataEndpoint('dynamodb', ec2.GatewayVpcEndpointAwsService.DYNAMODB),
      s3: dataEndpoint('s3', ec2.GatewayVpcEndpointAwsService.S3),
    };

    const interfaceEndpoints = {} as Record<keyof typeof INTERFACE_ENDPOINTS, ec2.InterfaceVpcEndpoint>;
    for (const [name, spec] of Object.entries(INTERFACE_ENDPOINTS) as [
      keyof typeof INTERFACE_ENDPOINTS,
      (typeof INTERFACE_ENDPOINTS)[keyof typeof INTERFACE_ENDPOINTS],
    ][]) {
      const endpoint = this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service: spec.service,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [this.endpointSecurityGroup],
        subnets: { subnetGroupName: 'Isolated' },
      });
      endpoint.addToPolicy(
        new iam.PolicyStatement({
          sid: 'MaestroActionsOnly',
          principals: [new iam.AnyPrincipal()],
          actions: [...spec.actions],
          resources: ['*'],
          conditions: sameAccount,
        }),
      );
      interfaceEndpoints[name] = endpoint;
    }
    this.interfaceEndpoints = interfaceEndpoints;

    this.#dnsFirewall(domains);
  }

  /** Isolated subnets and the isolated security group: for every function but the fetch path. */
  isolatedPlacement(): FunctionPlacement {
    return { vpc: this.vpc, vpcSubnets: { subnetGroupName: 'Isolated' }, securityGroups: [this.isolatedSecurityGroup] };
  }

  /** The `Egress` subnets (NAT) and the egress security group: for the fetch path alone. */
  controlledEgressPlacement(): FunctionPlacement {
    return { vpc: this.vpc, vpcSubnets: { subnetGroupName: 'Egress' }, securityGroups: [this.egressSecurityGroup] };
  }

  /** Resolver DNS Firewall: allow AWS and the allowlisted domains, NXDOMAIN for every other name. */
  #dnsFirewall(domains: string[]) {
    const allowed = new route53resolver.CfnFirewallDomainList(this, 'EgressAllowedDomains', {
      name: `${this.node.addr}-egress-allowed`,
      domains: ['amazonaws.com', '*.amazonaws.com', ...domains],
    });
    const everything = new route53resolver.CfnFirewallDomainList(this, 'EverythingElse', { name: `${this.node.addr}-everything-else`, domains: ['*'] });
    const rules = new route53resolver.CfnFirewallRuleGroup(this, 'EgressDnsRules', {
      name: `${this.node.addr}-egress-dns`,
      firewallRules: [
        { priority: 100, action: 'ALLOW', firewallDomainListId: allowed.attrId },
        { priority: 200, action: 'BLOCK', blockResponse: 'NXDOMAIN', firewallDomainListId: everything.attrId },
      ],
    });
    new route53resolver.CfnFirewallRuleGroupAssociation(this, 'EgressDnsRulesAssociation', {
      firewallRuleGroupId: rules.attrId,
      vpcId: this.vpc.vpcId,
      priority: 101,
      name: `${this.node.addr}-egress-dns`,
      mutationProtection: 'DISABLED',
    });
  }
}
