import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeGrant, acknowledgeNag } from './nag.ts';
import { KMS_WILDCARD_REASON } from './state-table.ts';

/** How Object Lock protects an object version during its retention period. */
export type ObjectLockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** Properties of an {@link ArtifactVault}. */
export interface ArtifactVaultProps {
  /**
   * Days that a new object version is locked by default (S3 counts Object Lock retention in whole days).
   * Must be an integer from 1 to 36500.
   *
   * @default 30
   */
  readonly objectLockRetentionDays?: number;

  /**
   * The default Object Lock mode. GOVERNANCE lets principals with `s3:BypassGovernanceRetention`
   * shorten a lock; COMPLIANCE lets nobody, the root user included.
   *
   * @default 'GOVERNANCE'
   */
  readonly objectLockMode?: ObjectLockMode;

  /**
   * Days after which server access log objects are deleted. Must be an integer of at least 1.
   *
   * @default 365
   */
  readonly accessLogRetentionDays?: number;

  /**
   * What happens to the buckets and the key when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const MAX_OBJECT_LOCK_DAYS = 36500;

/**
 * The bucket that holds backup artifacts and their signed manifests: versioned, Object Lock on
 * (default retention in governance mode), SSE-KMS with its own key and S3 Bucket Keys, public access
 * blocked, TLS required, server access logs to a separate bucket, retained on stack deletion.
 */
export class ArtifactVault extends Construct {
  /** The artifact bucket. */
  readonly bucket: s3.Bucket;
  /** The key that encrypts the artifact bucket. */
  readonly encryptionKey: kms.Key;
  /** The bucket that receives the artifact bucket's server access logs (SSE-S3: log delivery cannot use SSE-KMS). */
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactVaultProps = {}) {
    super(scope, id);

    const retentionDays = props.objectLockRetentionDays ?? 30;
    validateWholeDays(this, 'objectLockRetentionDays', retentionDays, 1, MAX_OBJECT_LOCK_DAYS);
    const logRetentionDays = props.accessLogRetentionDays ?? 365;
    validateWholeDays(this, 'accessLogRetentionDays', logRetentionDays, 1, Number.MAX_SAFE_INTEGER);
    const mode = props.objectLockMode ?? 'GOVERNANCE';
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') {
      throw new Error(`ArtifactVault ${this.node.path}: objectLockMode must be 'GOVERNANCE' or 'COMPLIANCE', got '${String(mode)}'`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    // Object ownership is left to the CDK: with `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`
    // (cdk.json) log delivery is granted by bucket policy and ACLs stay disabled; without it the CDK
    // needs the LogDeliveryWrite ACL.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(logRetentionDays) }],
      removalPolicy,
    });

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Maestro artifact vault',
      enableKeyRotation: true,
      removalPolicy,
    });

    const retention = Duration.days(retentionDays);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: mode === 'COMPLIANCE' ? s3.ObjectLockRetention.compliance(retention) : s3.ObjectLockRetention.governance(retention),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifact-vault/',
      removalPolicy,
    });
  }

  /** The artifact bucket's name. */
  get bucketName(): string {
    return this.bucket.bucketName;
  }

  /** Read artifacts and manifests, any version (and decrypt them). */
  grantReadArtifacts(grantee: iam.IGrantable): iam.Grant {
    return acknowledgeGrant(
      grantee,
      this.bucket.grantRead(grantee),
      'ArtifactVault grantReadArtifacts (Bucket.grantRead) on the vault bucket only: artifact and manifest keys are created per run at runtime, so the objects are "<bucket ARN>/*"; s3:GetObject*/GetBucket*/List* are the CDK\'s read-only action set (objects and their versions), on this one bucket.',
    );
  }

  /** Write new artifact and manifest versions (and encrypt them). Grants no delete and no lock bypass. */
  grantWriteArtifacts(grantee: iam.IGrantable): iam.Grant {
    const grant = acknowledgeGrant(
      grantee,
      this.bucket.grantPut(grantee),
      'ArtifactVault grantWriteArtifacts (Bucket.grantPut) on the vault bucket only: artifact and manifest keys are created per run at runtime, so the objects are "<bucket ARN>/*"; s3:Abort* only aborts the grantee\'s own multipart uploads. No delete and no lock bypass is granted.',
    );
    // The key part of the grant is a separate statement.
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
        acknowledgeNag(grantee.grantPrincipal, { id: `AwsSolutions-IAM5[Action::${action}]`, reason: KMS_WILDCARD_REASON });
      }
    }
    return grant;
  }
}

function validateWholeDays(scope: Construct, name: string, value: number, min: number, max: number): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new Error(`ArtifactVault ${scope.node.path}: ${name} must be a whole number of days ${range}, got ${String(value)}`);
  }
}
