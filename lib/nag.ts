import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';

/**
 * Helpers to acknowledge cdk-nag (AwsSolutions) findings where they arise, each with its reason.
 * cdk-nag 3 reports through CDK's policy validation; an acknowledgement (`Validations.of(scope)
 * .acknowledge`) matches one finding id exactly, on its construct or an ancestor of it, so these
 * helpers compute ids the way cdk-nag writes them and place them on the construct that owns them.
 */

/** One finding id (`AwsSolutions-IAM5[Resource::…]`) and why it is accepted. */
export interface NagAcknowledgement {
  readonly id: string;
  readonly reason: string;
}

/** Acknowledges findings on `scope` and everything below it. */
export function acknowledgeNag(scope: IConstruct, ...acknowledgements: readonly NagAcknowledgement[]): void {
  for (const { id, reason } of acknowledgements) Validations.of(scope).acknowledge({ id, reason });
}

/**
 * An ARN or action as cdk-nag's IAM findings print it: tokens resolved, `Fn::GetAtt` as
 * `<LogicalId.Attr>`, `Ref` as `<Name>`, joins flattened, other intrinsics as JSON
 * (cdk-nag's `flattenCfnReference`).
 */
export function nagText(scope: IConstruct, value: string): string {
  return flattenCfnReference(Stack.of(scope).resolve(value));
}

/** The construct a grant to `grantee` writes its policy under (a role), if it is one of this app's. */
function principalConstruct(grantee: iam.IGrantable): IConstruct | undefined {
  const principal: unknown = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) return principal;
  return Construct.isConstruct(grantee) ? grantee : undefined;
}

/**
 * Acknowledges, on the grantee's role, the IAM5 findings (wildcard actions and resources) of the
 * given statements: the ones one `grant*` call (or one `addToRolePolicy`) added. Only wildcards these
 * statements contain are acknowledged, each with `reason`, which must say why they are inherent.
 */
export function acknowledgeWildcards(grantee: iam.IGrantable, statements: readonly iam.PolicyStatement[], reason: string): void {
  const scope = principalConstruct(grantee);
  if (!scope) return;
  const findings = new Set<string>();
  for (const statement of statements) {
    if (statement.effect !== 'Allow') continue;
    for (const action of statement.actions) if (action.includes('*')) findings.add(`Action::${action}`);
    for (const resource of statement.resources) {
      const text = nagText(scope, resource);
      if (text.includes('*')) findings.add(`Resource::${text}`);
    }
  }
  acknowledgeNag(scope, ...[...findings].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })));
}

/** {@link acknowledgeWildcards} for the statements of a grant; returns the grant. */
export function acknowledgeGrant(grantee: iam.IGrantable, grant: iam.Grant, reason: string): iam.Grant {
  acknowledgeWildcards(grantee, grant.principalStatements, reason);
  return grant;
}

/** The IAM4 finding id of an AWS managed policy (`service-role/AWSLambdaBasicExecutionRole`). */
export function managedPolicyFinding(policyName: string): string {
  return `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policyName}]`;
}

/** cdk-nag's `flattenCfnReference` (utils/flatten-cfn-reference), which its package does not export. */
function flattenCfnReference(reference: unknown): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const record = node as Record<string, unknown>;
    if (record['Fn::Join']) {
      const [delimiter, items] = record['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (record['Fn::Sub']) return visit(record['Fn::Sub']);
    if (record['Fn::GetAtt']) {
      const [resource, attribute] = record['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (record['Fn::ImportValue']) return visit(record['Fn::ImportValue']);
    if (record.Ref) return `<${visit(record.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(reference);
}
