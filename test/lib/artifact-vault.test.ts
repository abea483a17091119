import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ArtifactVault } from '../../lib/artifact-vault.ts';
import { arnOf, logicalId, testStack } from './template-support.ts';

describe('ArtifactVault', () => {
  // GIVEN / WHEN a vault with default props
  const stack = testStack();
  const vault = new ArtifactVault(stack, 'Vault');
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources;

  it('versions objects and locks new versions for 30 days in governance mode', () => {
    // THEN
    expect(resources[logicalId(vault.bucket)].Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } },
      },
    });
  });

  it('encrypts with its own rotating KMS key and S3 Bucket Keys', () => {
    // THEN
    expect(resources[logicalId(vault.bucket)].Properties.BucketEncryption).toStrictEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arnOf(vault.encryptionKey) },
        },
      ],
    });
    expect(resources[logicalId(vault.encryptionKey)].Properties.EnableKeyRotation).toBe(true);
  });

  it('blocks all public access, logs access to a separate bucket and is retained', () => {
    // THEN
    const blockAll = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true };
    expect(resources[logicalId(vault.bucket)]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: blockAll,
        LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(vault.accessLogsBucket) } },
      },
    });
    expect(resources[logicalId(vault.accessLogsBucket)]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { PublicAccessBlockConfiguration: blockAll },
    });
  });

  it('denies every request that does not use TLS 1.2 or later', () => {
    // GIVEN the vault bucket's policy
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: logicalId(vault.bucket) } } }));
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement;
    const everything = [arnOf(vault.bucket), { 'Fn::Join': ['', [arnOf(vault.bucket), '/*']] }];

    // THEN
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Resource: everything,
        }),
        expect.objectContaining({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          Resource: everything,
        }),
      ]),
    );
  });

  it('takes another retention and mode', () => {
    // GIVEN
    const other = testStack();

    // WHEN
    const compliant = new ArtifactVault(other, 'Vault', { objectLockRetentionDays: 90, objectLockMode: 'COMPLIANCE' });

    // THEN
    expect(Template.fromStack(other).toJSON().Resources[logicalId(compliant.bucket)].Properties.ObjectLockConfiguration.Rule).toStrictEqual({
      DefaultRetention: { Mode: 'COMPLIANCE', Days: 90 },
    });
  });

  it.each([-1, 0, 2.5, 36501])('refuses an Object Lock retention of %s days, quoting it', (days) => {
    // GIVEN
    const other = testStack();

    // WHEN / THEN
    expect(() => new ArtifactVault(other, 'Vault', { objectLockRetentionDays: days })).toThrow(
      `objectLockRetentionDays must be a whole number of days from 1 to 36500, got ${days}`,
    );
  });
});
