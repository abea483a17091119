import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledgeGrant, acknowledgeNag } from './nag.ts';

/** cdk-nag IAM5: why the index wildcard of the table's grants is inherent. */
const INDEX_WILDCARD_REASON =
  'StateTable grantRead(Write)Data: "<table ARN>/index/*" lets Query reach the table\'s own global secondary indexes (gsi1 and any added later); it names no other table.';

/** cdk-nag IAM5: why the KMS action wildcards of encrypt/decrypt grants are inherent. */
export const KMS_WILDCARD_REASON =
  "grantEncryptDecrypt on one customer-managed key (the resource is that key's ARN only): DynamoDB and S3 server-side encryption use envelope encryption (kms:GenerateDataKey*, with and without plaintext); the CDK's encrypt/decrypt action set also lists kms:ReEncrypt* (ReEncryptFrom/To). Both patterns match only those KMS operations, on that one key.";

/** Properties of a {@link StateTable}. */
export interface StateTableProps {
  /**
   * The KMS key that encrypts the table, its indexes, backups and stream.
   *
   * @default - a new customer-managed key with yearly rotation, retained on stack deletion
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Whether deleting the table through the DynamoDB API is refused.
   *
   * @default true
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Maestro's single DynamoDB table: runs, tasks, events, locks, outbox, control and approval items,
 * keyed `pk`/`sk` with one overloaded index `gsi1` (`gsi1pk`/`gsi1sk`).
 *
 * On-demand capacity, point-in-time recovery, a NEW_AND_OLD_IMAGES stream for the outbox relay,
 * TTL on `expiresAt` (clean-up only: code checks expiry itself), a customer-managed KMS key.
 */
export class StateTable extends Construct {
  /** The name of the overloaded global secondary index. */
  static readonly GSI1_NAME = 'gsi1';
  /** The TTL attribute (epoch seconds). */
  static readonly TTL_ATTRIBUTE = 'expiresAt';

  /** The underlying table. */
  readonly table: dynamodb.Table;
  /** The key that encrypts the table and its stream. */
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Maestro state table',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: StateTable.TTL_ATTRIBUTE,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.table.addGlobalSecondaryIndex({
      indexName: StateTable.GSI1_NAME,
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** The table's name. */
  get tableName(): string {
    return this.table.tableName;
  }

  /** The table's ARN. */
  get tableArn(): string {
    return this.table.tableArn;
  }

  /** The stream's ARN (the outbox relay reads it). */
  get tableStreamArn(): string {
    // The stream is always on (see the constructor), so this is never undefined.
    return this.table.tableStreamArn as string;
  }

  /** Read items of the table and its indexes (and decrypt them). */
  grantReadData(grantee: iam.IGrantable): iam.Grant {
    return acknowledgeGrant(grantee, this.table.grantReadData(grantee), INDEX_WILDCARD_REASON);
  }

  /** Read and write items of the table and its indexes (and encrypt/decrypt them). */
  grantReadWriteData(grantee: iam.IGrantable): iam.Grant {
    const grant = acknowledgeGrant(grantee, this.table.grantReadWriteData(grantee), INDEX_WILDCARD_REASON);
    // The key part of the grant (kms:Encrypt/Decrypt/ReEncrypt*/GenerateDataKey*) is a separate statement.
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
        acknowledgeNag(grantee.grantPrincipal, { id: `AwsSolutions-IAM5[Action::${action}]`, reason: KMS_WILDCARD_REASON });
      }
    }
    return grant;
  }

  /** Read the table's stream (and decrypt it): what the outbox relay needs. */
  grantStreamRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantStreamRead(grantee);
  }
}
