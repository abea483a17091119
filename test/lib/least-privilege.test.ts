import { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { RUN_STEPS, TASK_EXECUTORS } from '../../lib/run-workflow.ts';
import { MaestroStack } from '../../lib/maestro-stack.ts';
import { allowedActions, logicalId, synthMaestro, testApp } from './template-support.ts';

/** Services whose resources hold data: a wildcard there would reach every table, bucket or key. */
const DATA_SERVICES = ['dynamodb', 's3', 'kms', 'secretsmanager', 'ssm'];

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

describe('least-privilege IAM per function', () => {
  // GIVEN the whole stack
  const { template } = synthMaestro();
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
  const functionRoles = new Set(
    Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((fn) => JSON.stringify(fn.Properties.Role).match(/"Fn::GetAtt":\["([^"]+)"/)?.[1])
      .filter(Boolean),
  );
  const statementsByRole = new Map<string, Statement[]>();
  for (const policy of Object.values(resources).filter((resource) => resource.Type === 'AWS::IAM::Policy')) {
    for (const role of policy.Properties.Roles ?? []) {
      const id = role.Ref as string;
      if (!functionRoles.has(id)) continue;
      statementsByRole.set(id, [...(statementsByRole.get(id) ?? []), ...policy.Properties.PolicyDocument.Statement]);
    }
  }

  it('covers every function role', () => {
    expect(functionRoles.size).toBeGreaterThanOrEqual(8);
    expect(statementsByRole.size).toBe(functionRoles.size);
  });

  it('grants no "*" or "service:*" action to any function', () => {
    const wide: string[] = [];
    for (const [role, statements] of statementsByRole) {
      for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
        for (const action of [statement.Action].flat()) if (action === '*' || action.endsWith(':*')) wide.push(`${role}: ${action}`);
      }
    }
    expect(wide).toEqual([]);
  });

  it('grants no data action (DynamoDB, S3, KMS, secrets) on Resource "*"', () => {
    const wide: string[] = [];
    for (const [role, statements] of statementsByRole) {
      for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
        if (![statement.Resource].flat().includes('*')) continue;
        for (const action of [statement.Action].flat()) if (DATA_SERVICES.includes(action.split(':')[0])) wide.push(`${role}: ${action} on *`);
      }
    }
    expect(wide).toEqual([]);
  });
});

/** A policy resource as text: `<LogicalId.Arn>/*` for `{"Fn::Join": ["", [{"Fn::GetAtt": [LogicalId, "Arn"]}, "/*"]]}`. */
function render(node: unknown): string {
  if (typeof node === 'string') return node;
  const record = node as Record<string, any>;
  if (record.Ref) return `<${record.Ref}>`;
  if (record['Fn::GetAtt']) return `<${record['Fn::GetAtt'].join('.')}>`;
  if (record['Fn::Join']) return record['Fn::Join'][1].map(render).join(record['Fn::Join'][0]);
  return JSON.stringify(node);
}

/** What a role may do, as resource → sorted actions. */
function grantsOf(template: Template, role: string): Record<string, string[]> {
  const byResource = new Map<string, Set<string>>();
  for (const { action, resource } of allowedActions(template, role)) {
    const key = render(JSON.parse(resource));
    byResource.set(key, (byResource.get(key) ?? new Set()).add(action));
  }
  return Object.fromEntries([...byResource].map(([resource, actions]) => [resource, [...actions].sort()]));
}

/** Logical ids of every data-holding resource (tables, buckets, keys, queues, buses, secrets) under a scope. */
function dataResourcesUnder(scope: IConstruct): string[] {
  return scope.node
    .findAll()
    .filter((construct): construct is CfnResource => construct instanceof CfnResource && DATA_TYPES.includes(construct.cfnResourceType))
    .map((resource) => Stack.of(resource).getLogicalId(resource));
}
const DATA_TYPES = [
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  'AWS::SQS::Queue',
  'AWS::Events::EventBus',
  'AWS::SecretsManager::Secret',
  'AWS::SSM::Parameter',
];

/** The resources of a role's statements that are Maestro's own (state table, vault, keys, queues, buses). */
function onMaestrosOwn(template: Template, role: string, maestrosOwn: readonly string[]): string[] {
  return Object.keys(grantsOf(template, role)).filter((resource) => maestrosOwn.some((id) => resource.includes(`<${id}`)));
}

const XRAY = { '*': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'] };
const BUCKET_LEVEL = ['s3:GetBucketLocation', 's3:GetBucketVersioning', 's3:ListBucket', 's3:ListBucketVersions'];
const OBJECT_READS = [
  's3:GetObject',
  's3:GetObjectAttributes',
  's3:GetObjectTagging',
  's3:GetObjectVersion',
  's3:GetObjectVersionAttributes',
  's3:GetObjectVersionTagging',
];
const TABLE_READS = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:Scan',
];

describe.each([
  ['the default stack', {}],
  [
    'a stack with DR targets and existing managed targets',
    {
      drTargets: [{ name: 'orders', tables: ['orders'] }],
      managedTargets: {
        existingBucketNames: ['team-data'],
        existingTableNames: ['team-table'],
        functionNames: ['team-fn'],
        parameterNames: ['/team-app/', '/shared/team-flag'],
        alarmNames: ['team-errors'],
      },
    },
  ],
] as const)('privilege separation in %s: actions run in executors that hold the managed targets only', (_, props) => {
  // GIVEN the whole stack
  const { stack, template } = synthMaestro(props as never);
  const workflow = stack.runWorkflow;
  const targets = stack.managedTargets;
  const managed = new Set(dataResourcesUnder(targets));
  const maestrosOwn = dataResourcesUnder(stack).filter((id) => !managed.has(id));
  const bucket = `<${logicalId(targets.bucket)}.Arn>`;
  const table = `<${logicalId(targets.table)}.Arn>`;
  const key = `<${logicalId(targets.encryptionKey)}.Arn>`;
  const existing = 'managedTargets' in props;
  const existingBucket = 'arn:aws:s3:::team-data';
  const existingTable = 'arn:aws:dynamodb:eu-west-1:123456789012:table/team-table';
  // The deploy actions' targets: the function and its aliases, parameters by name and by path prefix, the alarm.
  const teamFunction = 'arn:aws:lambda:eu-west-1:123456789012:function:team-fn';
  const teamParameters = ['arn:aws:ssm:eu-west-1:123456789012:parameter/team-app/*', 'arn:aws:ssm:eu-west-1:123456789012:parameter/shared/team-flag'];
  const teamAlarm = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:team-errors';
  const deployTargets = (access: 'read' | 'write') =>
    existing
      ? {
          [teamFunction]: ['lambda:GetAlias', 'lambda:ListVersionsByFunction', ...(access === 'write' ? ['lambda:UpdateAlias'] : [])],
          [`${teamFunction}:*`]: ['lambda:GetAlias', 'lambda:ListVersionsByFunction', ...(access === 'write' ? ['lambda:UpdateAlias'] : [])],
          ...Object.fromEntries(
            teamParameters.map((arn) => [
              arn,
              ['ssm:GetParameter', 'ssm:GetParameterHistory', ...(access === 'write' ? ['ssm:DeleteParameter', 'ssm:PutParameter'] : [])].sort(),
            ]),
          ),
          [teamAlarm]: ['cloudwatch:DescribeAlarms'],
        }
      : {};
  const roleOf = (fn: { role?: IConstruct }) => logicalId(fn.role!);

  it('gives each executor a role of its own, and the steps none of theirs', () => {
    const executorRoles = Object.values(workflow.executors).map(roleOf);
    expect(new Set(executorRoles).size).toBe(3);
    for (const fn of Object.values(workflow.functions)) expect(executorRoles).not.toContain(roleOf(fn));
  });

  it('grants no executor any statement on the state table, vault, signing keys, queues or buses', () => {
    expect(maestrosOwn).toContain(logicalId(stack.stateTable.table));
    expect(maestrosOwn).toContain(logicalId(stack.artifactVault.bucket));
    for (const [name, fn] of Object.entries(workflow.executors)) {
      expect(onMaestrosOwn(template, roleOf(fn), maestrosOwn), name).toEqual([]);
      // Nor does it know their names.
      const variables = Object.keys(template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables);
      expect(variables, name).not.toContain('MAESTRO_STATE_TABLE');
      expect(variables, name).not.toContain('MAESTRO_ARTIFACT_BUCKET');
      expect(
        variables.filter((variable) => /KEY|SIGNING|DR_TARGETS/.test(variable)),
        name,
      ).toEqual([]);
    }
  });

  it('lets ExecuteWrite (apply, rollback) read and write the managed targets, and nothing else', () => {
    expect(grantsOf(template, roleOf(workflow.executors.ExecuteWrite))).toEqual({
      ...XRAY,
      [bucket]: BUCKET_LEVEL,
      [`${bucket}/*`]: [...OBJECT_READS, 's3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject', 's3:PutObjectTagging'].sort(),
      [key]: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      [table]: [...TABLE_READS, 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].sort(),
      ...(existing
        ? {
            [existingBucket]: BUCKET_LEVEL,
            [`${existingBucket}/*`]: [...OBJECT_READS, 's3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject', 's3:PutObjectTagging'].sort(),
            [existingTable]: [...TABLE_READS, 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].sort(),
          }
        : {}),
      ...deployTargets('write'),
    });
  });

  it('lets ExecuteRead (plan, verify) only read the managed targets', () => {
    const grants = grantsOf(template, roleOf(workflow.executors.ExecuteRead));
    expect(grants).toEqual({
      ...XRAY,
      [bucket]: BUCKET_LEVEL,
      [`${bucket}/*`]: OBJECT_READS,
      [key]: ['kms:Decrypt', 'kms:DescribeKey'],
      [table]: TABLE_READS,
      ...(existing ? { [existingBucket]: BUCKET_LEVEL, [`${existingBucket}/*`]: OBJECT_READS, [existingTable]: TABLE_READS } : {}),
      ...deployTargets('read'),
    });
    const writes = Object.values(grants)
      .flat()
      .filter((action) => /^(s3|dynamodb|kms|lambda|ssm|cloudwatch):/.test(action) && /Put|Delete|Update|Write|Abort|Encrypt|GenerateDataKey/.test(action));
    expect(writes).toEqual([]);
  });

  it('gives ExecuteInternet (internet-reaching applies, on the egress path) no data grant at all', () => {
    expect(grantsOf(template, roleOf(workflow.executors.ExecuteInternet))).toEqual(XRAY);
  });

  it('gives no run step a grant on the managed targets; each may invoke its own executors only', () => {
    // The built-ins' executors, and each pack's own (`example:write`), which a step invokes for the same classes.
    const packExecutors = Object.entries(workflow.packExecutors).flatMap(([pack, byClass]) =>
      Object.entries(byClass).map(([cls, fn]) => [`${pack}:${cls}`, fn!] as const),
    );
    const executorArns = new Map([...Object.entries(workflow.executors), ...packExecutors].map(([name, fn]) => [`<${logicalId(fn)}.Arn>`, name]));
    for (const [name, fn] of Object.entries(workflow.functions)) {
      const grants = grantsOf(template, roleOf(fn));
      const onTargets = Object.keys(grants).filter(
        (resource) => [...managed].some((id) => resource.includes(`<${id}`)) || resource.includes('team-') || resource.includes('team-fn'),
      );
      expect(onTargets, name).toEqual([]);
      const invoked = [
        ...new Set(
          Object.keys(grants)
            .filter((resource) => grants[resource].includes('lambda:InvokeFunction'))
            .map((resource) => executorArns.get(resource.replace(/:\*$/, '')) ?? resource),
        ),
      ].sort();
      const classes = RUN_STEPS[name as keyof typeof RUN_STEPS].executors.map((executor) => TASK_EXECUTORS[executor].executorClass as string);
      const expected = [
        ...RUN_STEPS[name as keyof typeof RUN_STEPS].executors,
        ...packExecutors.map(([id]) => id).filter((id) => classes.includes(id.split(':')[1]!)),
      ];
      expect(invoked, name).toEqual(expected.sort());
    }
  });
});

describe('the privilege-separation check', () => {
  it('catches an executor given any statement on the state table or the vault', () => {
    // GIVEN a stack whose write executor is (wrongly) granted a read of the state table and the vault
    const stack = new MaestroStack(testApp(), 'Maestro', { env: { account: '123456789012', region: 'eu-west-1' } });
    const executor = stack.runWorkflow.executors.ExecuteWrite;
    stack.stateTable.table.grant(executor, 'dynamodb:GetItem');
    stack.artifactVault.grantReadArtifacts(executor);
    const template = Template.fromStack(stack);
    const maestrosOwn = dataResourcesUnder(stack).filter((id) => !new Set(dataResourcesUnder(stack.managedTargets)).has(id));

    // THEN the check names both
    const reaching = onMaestrosOwn(template, logicalId(executor.role!), maestrosOwn);
    expect(reaching.some((resource) => resource.includes(logicalId(stack.stateTable.table)))).toBe(true);
    expect(reaching.some((resource) => resource.includes(logicalId(stack.artifactVault.bucket)))).toBe(true);
  });
});
