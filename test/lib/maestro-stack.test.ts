import { describe, expect, it } from 'vitest';
import { arnOf, logicalId, synthMaestro } from './template-support.ts';

describe('MaestroStack', () => {
  // GIVEN / WHEN the whole stack
  const { stack, template } = synthMaestro();
  const resources = template.toJSON().Resources;

  it("passes the CDK's built-in CloudFormation validation, findings being errors as in cdk synth", () => {
    // WHEN / THEN: cdk.json's `@aws-cdk/core:validateAgainstDefaultRules` makes any finding (a
    // dependency cycle, a bad property) throw here; Template.fromStack also refuses dependency cycles.
    expect(() => synthMaestro({}, { cloudFormationValidation: true })).not.toThrow();
  });

  it('outputs the API URL, the run state machine ARN, the table name and the artifact bucket name', () => {
    // THEN
    const outputs = template.toJSON().Outputs;
    expect(outputs.ApiUrl.Value).toStrictEqual(expect.objectContaining({ 'Fn::Join': expect.anything() }));
    expect(JSON.stringify(outputs.ApiUrl.Value)).toContain(logicalId(stack.api.api));
    expect(outputs.RunStateMachineArn.Value).toStrictEqual({ Ref: logicalId(stack.runWorkflow.stateMachine) });
    expect(outputs.StateTableName.Value).toStrictEqual({ Ref: logicalId(stack.stateTable.table) });
    expect(outputs.ArtifactBucketName.Value).toStrictEqual({ Ref: logicalId(stack.artifactVault.bucket) });
  });

  it('runs every function on nodejs24.x', () => {
    // THEN
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(18); // 8 run steps, 3 action executors, the example pack's read and write executors, the run and operations APIs, the approval sweeper, the outbox relay, the trigger function
    expect(new Set(functions.map((fn) => fn.Properties.Runtime))).toStrictEqual(new Set(['nodejs24.x']));
  });

  it('retains every table, bucket and key', () => {
    // THEN
    for (const [id, resource] of Object.entries<{ Type: string; DeletionPolicy?: string }>(resources)) {
      if (['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::KMS::Key'].includes(resource.Type)) {
        expect(resource.DeletionPolicy, id).toBe('Retain');
      }
    }
  });

  it('lets the run state machine invoke exactly the eight step functions', () => {
    // THEN
    const role = logicalId(stack.runWorkflow.stateMachine.role);
    const invocable = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => [statement.Action].flat().includes('lambda:InvokeFunction'))
      .flatMap((statement) => [statement.Resource].flat())
      .filter((resource) => resource['Fn::GetAtt']);
    expect(invocable).toHaveLength(8);
    expect(invocable).toEqual(expect.arrayContaining(Object.values(stack.runWorkflow.functions).map((fn) => arnOf(fn))));
  });
});
