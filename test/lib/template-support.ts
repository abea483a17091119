import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { MaestroStack } from '../../lib/maestro-stack.ts';
import type { MaestroStackProps } from '../../lib/maestro-stack.ts';

/** The feature flags of cdk.json, so that tests synthesize what `cdk synth` does. */
const cdkJsonContext: Record<string, unknown> = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

/** Options of a {@link testApp}. */
export interface TestAppOptions {
  /**
   * Whether the CDK's built-in CloudFormation validation runs at synth (as it does in `cdk synth`).
   * It costs about 2 s per synth, so only the whole-stack test turns it on.
   *
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
}

/** A CDK app with cdk.json's context that skips esbuild bundling (TOOL-NOTES: ~60 ms per template). */
export function testApp(options: TestAppOptions = {}): App {
  return new App({
    context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
  });
}

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** An empty stack in a {@link testApp}, in a fixed environment. */
export function testStack(): Stack {
  return new Stack(testApp(), 'Test', { env: ENV });
}

/** The whole Maestro stack and its template. */
export function synthMaestro(props: MaestroStackProps = {}, options: TestAppOptions = {}): { stack: MaestroStack; template: Template } {
  const stack = new MaestroStack(testApp(options), 'Maestro', { env: ENV, ...props });
  return { stack, template: Template.fromStack(stack) };
}

/** The logical id of a construct's CloudFormation resource (its default child, or itself). */
export function logicalId(construct: IConstruct): string {
  const resource = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(resource);
}

/** `{ "Fn::GetAtt": [id, "Arn"] }` of a construct's resource. */
export function arnOf(construct: IConstruct): unknown {
  return { 'Fn::GetAtt': [logicalId(construct), 'Arn'] };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every (action, resource) that identity policies attached to a role allow, resources as JSON text. */
export function allowedActions(template: Template, roleLogicalId: string): Array<{ action: string; resource: string }> {
  const pairs: Array<{ action: string; resource: string }> = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles: unknown[] = policy.Properties.Roles ?? [];
    if (!roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action].flat()) {
        for (const resource of [statement.Resource].flat()) pairs.push({ action, resource: JSON.stringify(resource) });
      }
    }
  }
  return pairs;
}

/** Whether a role may take `action` on exactly `resource` (an ARN string or an intrinsic). */
export function allows(template: Template, roleLogicalId: string, action: string, resource: unknown): boolean {
  const wanted = JSON.stringify(resource);
  return allowedActions(template, roleLogicalId).some((pair) => pair.action === action && pair.resource === wanted);
}
