import { RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Properties of {@link SigningKeys}. */
export interface SigningKeysProps {
  /**
   * Alias of the key that signs DR manifests. Must start with `alias/` and not with `alias/aws/`.
   *
   * @default 'alias/maestro-manifest-signing'
   */
  readonly manifestSigningAlias?: string;

  /**
   * Alias of the key that authenticates approval links. Must start with `alias/` and not with `alias/aws/`.
   *
   * @default 'alias/maestro-approval-links'
   */
  readonly approvalLinksAlias?: string;

  /**
   * What happens to the keys when they leave the stack. A deleted signing key makes every
   * manifest it signed unverifiable, hence the default.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const ALIAS_PATTERN = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

/**
 * Maestro's two signing keys: an ECC_NIST_P256 SIGN_VERIFY key for DR manifests, and an HMAC_256
 * GENERATE_VERIFY_MAC key for approval links. Neither key material ever leaves KMS; KMS does not
 * rotate asymmetric or HMAC keys automatically.
 */
export class SigningKeys extends Construct {
  /** The manifest signing key (ECDSA P-256, SHA-256). */
  readonly manifestSigningKey: kms.Key;
  /** The approval link key (HMAC-SHA-256). */
  readonly approvalLinksKey: kms.Key;
  /** The alias of the manifest signing key, usable as `KeyId` in KMS calls. */
  readonly manifestSigningAlias: string;
  /** The alias of the approval link key, usable as `KeyId` in KMS calls. */
  readonly approvalLinksAlias: string;

  constructor(scope: Construct, id: string, props: SigningKeysProps = {}) {
    super(scope, id);
    this.manifestSigningAlias = validateAlias(this, 'manifestSigningAlias', props.manifestSigningAlias ?? 'alias/maestro-manifest-signing');
    this.approvalLinksAlias = validateAlias(this, 'approvalLinksAlias', props.approvalLinksAlias ?? 'alias/maestro-approval-links');
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.manifestSigningKey = new kms.Key(this, 'ManifestSigningKey', {
      description: 'Maestro: signs DR backup manifests',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      alias: this.manifestSigningAlias,
      removalPolicy,
    });

    this.approvalLinksKey = new kms.Key(this, 'ApprovalLinksKey', {
      description: 'Maestro: authenticates approval links (HMAC)',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      alias: this.approvalLinksAlias,
      removalPolicy,
    });
  }

  /** Sign manifests (`kms:Sign` on the manifest key). */
  grantSignManifests(grantee: iam.IGrantable): iam.Grant {
    return this.manifestSigningKey.grantSign(grantee);
  }

  /** Verify manifest signatures in KMS (`kms:Verify` on the manifest key). */
  grantVerifyManifests(grantee: iam.IGrantable): iam.Grant {
    return this.manifestSigningKey.grantVerify(grantee);
  }

  /** Sign approval links (`kms:GenerateMac` on the approval link key). */
  grantSignApprovalLinks(grantee: iam.IGrantable): iam.Grant {
    return this.approvalLinksKey.grantGenerateMac(grantee);
  }

  /** Verify approval links (`kms:VerifyMac` on the approval link key). */
  grantVerifyApprovalLinks(grantee: iam.IGrantable): iam.Grant {
    return this.approvalLinksKey.grantVerifyMac(grantee);
  }
}

function validateAlias(scope: Construct, name: string, alias: string): string {
  if (!ALIAS_PATTERN.test(alias) || alias.startsWith('alias/aws/')) {
    throw new Error(`SigningKeys ${scope.node.path}: ${name} must match ${ALIAS_PATTERN} and not start with 'alias/aws/', got ${JSON.stringify(alias)}`);
  }
  return alias;
}
