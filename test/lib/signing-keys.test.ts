import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { SigningKeys } from '../../lib/signing-keys.ts';
import { allows, arnOf, logicalId, testStack } from './template-support.ts';

describe('SigningKeys', () => {
  // GIVEN
  const stack = testStack();
  const keys = new SigningKeys(stack, 'Keys');
  const signer = new iam.Role(stack, 'Signer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const checker = new iam.Role(stack, 'Checker', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

  // WHEN
  keys.grantSignManifests(signer);
  keys.grantSignApprovalLinks(signer);
  keys.grantVerifyManifests(checker);
  keys.grantVerifyApprovalLinks(checker);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources;

  it('signs manifests with a retained ECC_NIST_P256 SIGN_VERIFY key under alias/maestro-manifest-signing', () => {
    // THEN
    expect(resources[logicalId(keys.manifestSigningKey)]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/maestro-manifest-signing', TargetKeyId: arnOf(keys.manifestSigningKey) });
  });

  it('authenticates approval links with a retained HMAC_256 GENERATE_VERIFY_MAC key under alias/maestro-approval-links', () => {
    // THEN
    expect(resources[logicalId(keys.approvalLinksKey)]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' },
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/maestro-approval-links', TargetKeyId: arnOf(keys.approvalLinksKey) });
  });

  it('grants each operation on its own key only', () => {
    // THEN
    const manifestKey = arnOf(keys.manifestSigningKey);
    const linksKey = arnOf(keys.approvalLinksKey);
    expect(allows(template, logicalId(signer), 'kms:Sign', manifestKey)).toBe(true);
    expect(allows(template, logicalId(signer), 'kms:GenerateMac', linksKey)).toBe(true);
    expect(allows(template, logicalId(signer), 'kms:Sign', linksKey)).toBe(false);
    expect(allows(template, logicalId(signer), 'kms:Verify', manifestKey)).toBe(false);
    expect(allows(template, logicalId(checker), 'kms:Verify', manifestKey)).toBe(true);
    expect(allows(template, logicalId(checker), 'kms:VerifyMac', linksKey)).toBe(true);
    expect(allows(template, logicalId(checker), 'kms:Sign', manifestKey)).toBe(false);
    expect(allows(template, logicalId(checker), 'kms:GenerateMac', linksKey)).toBe(false);
  });

  it.each(['maestro-links', 'alias/aws/maestro', 'alias/with space'])('refuses the alias %s, quoting it', (alias) => {
    // WHEN / THEN
    expect(() => new SigningKeys(testStack(), 'Keys', { approvalLinksAlias: alias })).toThrow(`got ${JSON.stringify(alias)}`);
  });
});
