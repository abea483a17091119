import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

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
    return this.table.grantReadData(grantee);
  }

  /** Read and write items of the table and its indexes (and encrypt/decrypt them). */
  grantReadWriteData(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadWriteData(grantee);
  }

  /** Read the table's stream (and decrypt it): what the outbox relay needs. */
  grantStreamRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantStreamRead(grantee);
  }
}
