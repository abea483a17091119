import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { MaestroStack } from '../../lib/maestro-stack.ts';

const synth = (props: ConstructorParameters<typeof MaestroStack>[2] = {}) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MaestroStack(app, 'Maestro', { network: false, ...props });
  return { stack, template: Template.fromStack(stack) };
};

describe('ApprovalGate', () => {
  // GIVEN a stack with a custom domain and SES sender
  const { stack, template } = synth({ publicUrl: 'https://maestro.example.com', approvalEmailFrom: 'maestro@example.com' });

  it('sweeps approvals every minute', () => {
    // THEN
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it('gives the link users and the sweeper the public URL, the approval key and the SES sender', () => {
    const functions = [stack.runWorkflow.functions.RequestApproval, stack.api.handler, stack.approvalGate.sweeper];
    for (const fn of functions) {
      const environment = template.toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment.Variables;
      expect(environment).toMatchObject({ MAESTRO_PUBLIC_URL: 'https://maestro.example.com', MAESTRO_APPROVAL_KEY: 'alias/maestro-approval-links', MAESTRO_SES_FROM: 'maestro@example.com' });
    }
  });

  it('grants GenerateMac and VerifyMac on the approval key only, and SES on the sender identity only', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('kms:GenerateMac');
    expect(policies).toContain('kms:VerifyMac');
    expect(policies).toContain('identity/maestro@example.com');
  });

  it('refuses a public URL that is not http(s), quoting it', () => {
    expect(() => synth({ publicUrl: 'ftp://maestro' })).toThrow(/publicUrl must be an http\(s\) URL, got "ftp:\/\/maestro"/);
  });
});
