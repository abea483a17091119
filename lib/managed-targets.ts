import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeGrant } from './nag.ts';
import { KMS_WILDCARD_REASON } from './state-table.ts';
import { ManagedResources, ownResourceByPattern } from '../functions/core/config/managed-resources.ts';
import { MANAGED_RESOURCE_KINDS } from '../functions/core/safety/managed-resources.ts';

/** The resource kinds ManagedTargets can grant: those an environment's managedResources declares. */
export const MANAGED_TARGET_KINDS: readonly string[] = MANAGED_RESOURCE_KINDS;

/** Properties of {@link ManagedTargets}. */
export interface ManagedTargetsProps {
  /**
   * Names of existing buckets that runs may also act on. Their KMS keys, if they use
   * customer-managed ones, are not granted: grant those separately.
   *
   * @default - none
   */
  readonly existingBucketNames?: readonly string[];

  /**
   * Names of existing DynamoDB tables (same account and region) that runs may also act on.
   * Their KMS keys, if they use customer-managed ones, are not granted: grant those separately.
   *
   * @default - none
   */
  readonly existingTableNames?: readonly string[];

  /**
   * Lambda functions (same account and region) whose aliases `lambda.shift-alias` may move: the
   * environments' `managedResources.functions`. Maestro's own functions are refused.
   *
   * @default - none
   */
  readonly functionNames?: readonly string[];

  /**
   * SSM parameters `ssm.put-parameter` may write: names (`/app/flag`) or path prefixes ending in `/`
   * (`/app/`), as in the environments' `managedResources.parameters`. SecureStrings under the
   * account's default `aws/ssm` key need no further grant; a customer-managed key must be granted
   * separately.
   *
   * @default - none
   */
  readonly parameterNames?: readonly string[];

  /**
   * CloudWatch alarms a deploy may watch (read their state): the environments' `managedResources.alarms`.
   *
   * @default - none
   */
  readonly alarmNames?: readonly string[];

  /**
   * What happens to the demo bucket, table and key when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The bucket the demo bucket's server access logs go to (under `managed-targets/`): MaestroStack
   * passes the artifact vault's access-log bucket.
   *
   * @default - no server access logs
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
}

const BUCKET_NAME = /^(?!xn--)(?!sthree-)(?!.*-s3alias$)(?!.*--ol-s3$)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/** Bucket-level S3 actions an action may take: list keys and versions, read versioning state. */
const BUCKET_ACTIONS = ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketVersioning', 's3:GetBucketLocation'];

/**
 * Object-level S3 actions an action may take: read any version, write, and delete the current
 * version (which adds a delete marker). Deliberately not `s3:DeleteObjectVersion`: an action can
 * roll back by copying an old version over, never by erasing history.
 */
const OBJECT_ACTIONS = [
  's3:GetObject',
  's3:GetObjectVersion',
  's3:GetObjectAttributes',
  's3:GetObjectVersionAttributes',
  's3:GetObjectTagging',
  's3:GetObjectVersionTagging',
  's3:PutObject',
  's3:PutObjectTagging',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
];

/** What `lambda.shift-alias` calls on a managed function: read the alias and the versions, move the alias. */
const ALIAS_READ_ACTIONS = ['lambda:GetAlias', 'lambda:ListVersionsByFunction'];
const ALIAS_ACTIONS = [...ALIAS_READ_ACTIONS, 'lambda:UpdateAlias'];
/** What `ssm.put-parameter` calls on a managed parameter (rollback reads the history and may delete a parameter it created). */
const PARAMETER_READ_ACTIONS = ['ssm:GetParameter', 'ssm:GetParameterHistory'];
const PARAMETER_ACTIONS = [...PARAMETER_READ_ACTIONS, 'ssm:PutParameter', 'ssm:DeleteParameter'];
const ALARM_READ_ACTIONS = ['cloudwatch:DescribeAlarms'];

/** The read-only subset of {@link OBJECT_ACTIONS}: what plan and verify need. */
const OBJECT_READ_ACTIONS = OBJECT_ACTIONS.filter((action) => action.startsWith('s3:Get'));

/**
 * What runs may act on: a versioned, KMS-encrypted demo bucket and a demo table (partition key `id`),
 * which play the embedded stack's `maestro-demo` bucket and table, plus any existing buckets and
 * tables named in the props. {@link grantActions} gives an action executor write rights on these only,
 * {@link grantReadActions} read-only ones.
 */
export class ManagedTargets extends Construct {
  /** The demo bucket. */
  readonly bucket: s3.Bucket;
  /** The demo table. */
  readonly table: dynamodb.Table;
  /** The key that encrypts the demo bucket and table. */
  readonly encryptionKey: kms.Key;
  /** Every bucket runs may act on, the demo bucket first. */
  readonly buckets: readonly s3.IBucket[];
  /** Every table runs may act on, the demo table first. */
  readonly tables: readonly dynamodb.ITable[];
  /** The managed Lambda functions, SSM parameters (names or path prefixes) and CloudWatch alarms, by name. */
  readonly functionNames: readonly string[];
  readonly parameterNames: readonly string[];
  readonly alarmNames: readonly string[];

  constructor(scope: Construct, id: string, props: ManagedTargetsProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const existingBucketNames = props.existingBucketNames ?? [];
    const existingTableNames = props.existingTableNames ?? [];
    for (const name of existingBucketNames) {
      if (!BUCKET_NAME.test(name)) {
        throw new Error(`ManagedTargets ${this.node.path}: existingBucketNames holds an invalid bucket name ${JSON.stringify(name)}`);
      }
    }
    for (const name of existingTableNames) {
      if (!TABLE_NAME.test(name)) {
        throw new Error(`ManagedTargets ${this.node.path}: existingTableNames holds an invalid table name ${JSON.stringify(name)}`);
      }
    }

    // The same rules as an environment's managedResources (names, and never one of Maestro's own).
    const declared = ManagedResources.safeParse({
      functions: props.functionNames ?? [],
      parameters: props.parameterNames ?? [],
      alarms: props.alarmNames ?? [],
    });
    if (!declared.success) {
      const issue = declared.error.issues[0];
      throw new Error(`ManagedTargets ${this.node.path}: ${issue.path.join('.')}: ${issue.message}`);
    }
    for (const name of declared.data.functions) {
      const own = ownResourceByPattern(name);
      if (own) throw new Error(`ManagedTargets ${this.node.path}: functionNames holds ${JSON.stringify(name)}, which is ${own}`);
    }
    this.functionNames = declared.data.functions;
    this.parameterNames = declared.data.parameters;
    this.alarmNames = declared.data.alarms;

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Maestro managed targets (demo bucket and table)',
      enableKeyRotation: true,
      removalPolicy,
    });

    this.bucket = new s3.Bucket(this, 'DemoBucket', {
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      ...(props.serverAccessLogsBucket ? { serverAccessLogsBucket: props.serverAccessLogsBucket, serverAccessLogsPrefix: 'managed-targets/' } : {}),
      removalPolicy,
    });

    this.table = new dynamodb.Table(this, 'DemoTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      removalPolicy,
    });

    this.buckets = [this.bucket, ...existingBucketNames.map((name, i) => s3.Bucket.fromBucketName(this, `ExistingBucket${i}`, name))];
    this.tables = [this.table, ...existingTableNames.map((name, i) => dynamodb.Table.fromTableName(this, `ExistingTable${i}`, name))];
  }

  /** ARNs of the managed functions (and their aliases), parameters and alarms. */
  #functionArns(): string[] {
    const stack = Stack.of(this);
    return this.functionNames.flatMap((name) =>
      [name, `${name}:*`].map((resourceName) =>
        stack.formatArn({ service: 'lambda', resource: 'function', resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ),
    );
  }

  #parameterArns(): string[] {
    // `parameter/app/flag` for `/app/flag`; a path prefix `/app/` covers `parameter/app/*`.
    return this.parameterNames.map((name) =>
      Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${name.replace(/^\//, '')}${name.endsWith('/') ? '*' : ''}` }),
    );
  }

  #alarmArns(): string[] {
    return this.alarmNames.map((name) =>
      Stack.of(this).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
  }

  /**
   * The grants of one access on the managed resources of these kinds, and of no other kind
   * (functions/core/actions/resources.ts): `s3` the buckets' objects and their key, `dynamodb` the
   * tables' items and their key, `lambda` the managed functions' aliases, `ssm` the parameters,
   * `cloudwatch-alarm` the alarms (read-only). A kind with nothing declared grants nothing.
   */
  grantKinds(grantee: iam.IGrantable, kinds: readonly string[], access: 'read' | 'write'): iam.Grant[] {
    const unknown = kinds.filter((kind) => !MANAGED_TARGET_KINDS.includes(kind));
    if (unknown.length > 0)
      throw new Error(
        `ManagedTargets ${this.node.path}: no grants for the resource kinds ${JSON.stringify(unknown)} (known: ${MANAGED_TARGET_KINDS.join(', ')})`,
      );
    const write = access === 'write';
    const has = (kind: string) => kinds.includes(kind);
    const grants: iam.Grant[] = [];
    const deployTargets: [string, string[], string[]][] = [
      ['lambda', this.#functionArns(), write ? ALIAS_ACTIONS : ALIAS_READ_ACTIONS],
      ['ssm', this.#parameterArns(), write ? PARAMETER_ACTIONS : PARAMETER_READ_ACTIONS],
      ['cloudwatch-alarm', this.#alarmArns(), ALARM_READ_ACTIONS],
    ];
    for (const [kind, resourceArns, actions] of deployTargets) {
      if (has(kind) && resourceArns.length > 0) grants.push(iam.Grant.addToPrincipal({ grantee, actions, resourceArns }));
    }
    if (has('s3')) {
      grants.push(
        iam.Grant.addToPrincipal({ grantee, actions: BUCKET_ACTIONS, resourceArns: this.buckets.map((bucket) => bucket.bucketArn) }),
        acknowledgeGrant(
          grantee,
          iam.Grant.addToPrincipal({
            grantee,
            actions: write ? OBJECT_ACTIONS : OBJECT_READ_ACTIONS,
            resourceArns: this.buckets.map((bucket) => bucket.arnForObjects('*')),
          }),
          write
            ? 'ManagedTargets grantActions, object actions: runs act on objects whose keys come from each run\'s plan (not known at deploy time), so each managed bucket\'s objects are "<bucket ARN>/*"; only the managed buckets are named.'
            : 'ManagedTargets grantReadActions, object reads: plans and verifications read objects whose keys come from each run\'s plan (not known at deploy time), so each managed bucket\'s objects are "<bucket ARN>/*"; only the managed buckets are named.',
        ),
      );
    }
    if (has('s3') || has('dynamodb')) {
      grants.push(
        acknowledgeGrant(grantee, write ? this.encryptionKey.grantEncryptDecrypt(grantee) : this.encryptionKey.grantDecrypt(grantee), KMS_WILDCARD_REASON),
      );
    }
    if (has('dynamodb')) {
      for (const table of this.tables) {
        grants.push(
          acknowledgeGrant(
            grantee,
            write ? table.grantReadWriteData(grantee) : table.grantReadData(grantee),
            write
              ? 'ManagedTargets grantActions on a managed table: "<table ARN>/index/*" lets Query reach that table\'s own secondary indexes; it names no other table.'
              : 'ManagedTargets grantReadActions on a managed table: "<table ARN>/index/*" lets Query reach that table\'s own secondary indexes; it names no other table.',
          ),
        );
      }
    }
    return grants;
  }

  /**
   * Lets an action function act on the managed targets, and nothing else: read, write and
   * read old versions of objects in their buckets, read and write items of their tables, move the
   * aliases of the managed functions, write the managed parameters, read the managed alarms.
   */
  grantActions(grantee: iam.IGrantable): iam.Grant {
    return this.grantKinds(grantee, MANAGED_TARGET_KINDS, 'write').reduce((all, grant) => all.combine(grant));
  }

  /**
   * Lets a plan or verify executor read the managed targets, and nothing else: list and read (old
   * versions included) objects in their buckets, read items of their tables, decrypt with their key,
   * read the managed functions' aliases and versions, the managed parameters and alarms.
   */
  grantReadActions(grantee: iam.IGrantable): iam.Grant {
    return this.grantKinds(grantee, MANAGED_TARGET_KINDS, 'read').reduce((all, grant) => all.combine(grant));
  }
}
