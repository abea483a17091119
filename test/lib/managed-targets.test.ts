import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ManagedTargets } from '../../lib/managed-targets.ts';
import { allowedActions, allows, arnOf, logicalId, testStack } from './template-support.ts';

describe('ManagedTargets', () => {
  // GIVEN demo targets plus one existing bucket and table
  const stack = testStack();
  const targets = new ManagedTargets(stack, 'Targets', { existingBucketNames: ['team-config'], existingTableNames: ['team-flags'] });
  const actor = new iam.Role(stack, 'Actor', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

  // WHEN
  targets.grantActions(actor);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources;
  const role = logicalId(actor);

  it('has a versioned, KMS-encrypted, private, TLS-only demo bucket and an `id`-keyed demo table, both retained', () => {
    // THEN
    expect(resources[logicalId(targets.bucket)]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arnOf(targets.encryptionKey) } }],
        },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      },
    });
    const [policy] = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: logicalId(targets.bucket) } } }));
    expect(policy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
    );
    expect(resources[logicalId(targets.table)]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arnOf(targets.encryptionKey) },
      },
    });
  });

  it('lets an action read, write and read old versions of objects in every managed bucket', () => {
    for (const [bucketArn, objects] of [
      [arnOf(targets.bucket), { 'Fn::Join': ['', [arnOf(targets.bucket), '/*']] }],
      ['arn:aws:s3:::team-config', 'arn:aws:s3:::team-config/*'],
    ]) {
      // THEN
      for (const action of ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject']) {
        expect(allows(template, role, action, objects), `${action} on ${JSON.stringify(objects)}`).toBe(true);
      }
      expect(allows(template, role, 's3:ListBucketVersions', bucketArn)).toBe(true);
    }
    expect(allows(template, role, 'kms:Decrypt', arnOf(targets.encryptionKey))).toBe(true);
    expect(allows(template, role, 'kms:GenerateDataKey*', arnOf(targets.encryptionKey))).toBe(true);
  });

  it('lets an action read and write items of every managed table', () => {
    const existingTableArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/team-flags';
    for (const tableArn of [arnOf(targets.table), existingTableArn]) {
      // THEN
      for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
        expect(allows(template, role, action, tableArn), `${action} on ${JSON.stringify(tableArn)}`).toBe(true);
      }
    }
  });

  it('never lets an action erase object versions or act on anything unnamed', () => {
    // THEN
    const pairs = allowedActions(template, role);
    expect(pairs.filter((pair) => pair.action === 's3:DeleteObjectVersion' || pair.action === 's3:*')).toStrictEqual([]);
    expect(pairs.filter((pair) => pair.resource === '"*"')).toStrictEqual([]);
  });

  it.each([
    ['existingBucketNames', { existingBucketNames: ['Not_A_Bucket'] }, '"Not_A_Bucket"'],
    ['existingTableNames', { existingTableNames: ['x'] }, '"x"'],
  ])('refuses a malformed name in %s, quoting it', (_, props, quoted) => {
    // WHEN / THEN
    expect(() => new ManagedTargets(testStack(), 'Targets', props)).toThrow(quoted);
  });

  it("refuses a malformed function, parameter or alarm name, and Maestro's own functions, naming the prop", () => {
    // WHEN / THEN
    expect(() => new ManagedTargets(testStack(), 'Targets', { functionNames: ['not a function'] })).toThrow(/functions\.0: must be a Lambda function name/);
    expect(() => new ManagedTargets(testStack(), 'Targets', { parameterNames: ['bad name!'] })).toThrow(/parameters\.0/);
    expect(() => new ManagedTargets(testStack(), 'Targets', { functionNames: ['maestro-run-apply-task'] })).toThrow(
      /functionNames holds "maestro-run-apply-task", which is Maestro's run workflow functions/,
    );
  });
});
