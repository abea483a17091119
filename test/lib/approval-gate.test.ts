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
      expect(environment).toMatchObject({
        MAESTRO_PUBLIC_URL: 'https://maestro.example.com',
        MAESTRO_APPROVAL_KEY: 'alias/maestro-approval-links',
        MAESTRO_SES_FROM: 'maestro@example.com',
      });
    }
  });

  it('grants GenerateMac and VerifyMac on the approval key only, and SES on the sender identity only', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('kms:GenerateMac');
    expect(policies).toContain('kms:VerifyMac');
    expect(policies).toContain('identity/maestro@example.com');
  });

  it('posts Slack messages through EventBridge and an API destination, the functions having no internet route', () => {
    const { stack: withSlack, template: slackTemplate } = synth({
      publicUrl: 'https://maestro.example.com',
      slackWebhookUrl: 'https://hooks.slack.com/services/T/B/X',
    });
    slackTemplate.hasResourceProperties('AWS::Events::ApiDestination', { InvocationEndpoint: 'https://hooks.slack.com/services/T/B/X', HttpMethod: 'POST' });
    slackTemplate.hasResourceProperties('AWS::Events::Rule', { EventPattern: { source: ['maestro.notifications'], 'detail-type': ['SlackMessage'] } });
    const sweeper = slackTemplate.toJSON().Resources[withSlack.getLogicalId(withSlack.approvalGate.sweeper.node.defaultChild as never)];
    expect(sweeper.Properties.Environment.Variables.MAESTRO_SLACK_EVENT_BUS).toBe('default');
    expect(JSON.stringify(slackTemplate.findResources('AWS::IAM::Policy'))).toContain('events:PutEvents');
  });

  it('refuses a public URL that is not http(s), quoting it', () => {
    expect(() => synth({ publicUrl: 'ftp://maestro' })).toThrow(/publicUrl must be an http\(s\) URL, got "ftp:\/\/maestro"/);
  });
});

describe('restore approvals in CDK', () => {
  // GIVEN a stack with a DR target in prod
  const { stack, template } = synth({ publicUrl: 'https://maestro.example.com', drTargets: [{ name: 'orders', environment: 'prod', tables: ['orders'] }] });

  it('lets the restore gate start approval runs, and the run functions answer the restore wait', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
    const policy = (prefix: string) => Object.entries(resources).find(([id, resource]) => id.startsWith(prefix) && resource.Type === 'AWS::IAM::Policy')![1];
    const answer = policy('RestoreApprovalAnswerPolicy');
    expect(JSON.stringify(answer.Properties.PolicyDocument)).toContain('states:SendTaskSuccess');
    expect(answer.Properties.Roles).toHaveLength(4); // the gate, ApplyTask, Finalize, the API
    const start = policy('RestoreApprovalStartRunPolicy');
    expect(JSON.stringify(start.Properties.PolicyDocument)).toContain('states:StartExecution');
    const gate = resources[stack.getLogicalId(stack.drWorkflows!.functions.AwaitApproval.node.defaultChild as never)];
    expect(JSON.stringify(gate.Properties.Environment.Variables.MAESTRO_DR_TARGETS)).toContain('prod');
    expect(gate.Properties.Environment.Variables.MAESTRO_RUN_STATE_MACHINE_ARN).toBeDefined();
  });
});
