import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { StateTable } from '../../lib/state-table.ts';
import { allows, arnOf, logicalId, testStack } from './template-support.ts';

describe('StateTable', () => {
  // GIVEN
  const stack = testStack();
  // WHEN
  const stateTable = new StateTable(stack, 'State');
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  stateTable.grantReadWriteData(reader);
  const template = Template.fromStack(stack);

  it('keys items by pk/sk and indexes them by gsi1pk/gsi1sk with every attribute projected', () => {
    // THEN
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.anyValue(),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    const table = template.toJSON().Resources[logicalId(stateTable.table)];
    expect(table.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining(['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((name) => ({ AttributeName: name, AttributeType: 'S' }))),
    );
    expect(table.Properties.AttributeDefinitions).toHaveLength(4);
  });

  it('is on demand, with PITR, a NEW_AND_OLD_IMAGES stream, TTL on expiresAt and deletion protection', () => {
    // THEN
    expect(template.toJSON().Resources[logicalId(stateTable.table)].Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('is encrypted with its own rotating customer-managed key, and both are retained', () => {
    // THEN
    const resources = template.toJSON().Resources;
    expect(resources[logicalId(stateTable.table)]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arnOf(stateTable.encryptionKey) } },
    });
    expect(resources[logicalId(stateTable.encryptionKey)]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
  });

  it('passes grantReadWriteData through to the table and its key', () => {
    // THEN
    const role = logicalId(reader);
    expect(allows(template, role, 'dynamodb:PutItem', arnOf(stateTable.table))).toBe(true);
    expect(allows(template, role, 'dynamodb:Query', { 'Fn::Join': ['', [arnOf(stateTable.table), '/index/*']] })).toBe(true);
    expect(allows(template, role, 'kms:Decrypt', arnOf(stateTable.encryptionKey))).toBe(true);
  });
});
