import { describe, expect, it } from 'vitest';
import { synthMaestro } from './template-support.ts';

/** Services whose resources hold data: a wildcard there would reach every table, bucket or key. */
const DATA_SERVICES = ['dynamodb', 's3', 'kms', 'secretsmanager', 'ssm'];

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

describe('least-privilege IAM per function', () => {
  // GIVEN the whole stack
  const { template } = synthMaestro();
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
  const functionRoles = new Set(
    Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((fn) => JSON.stringify(fn.Properties.Role).match(/"Fn::GetAtt":\["([^"]+)"/)?.[1])
      .filter(Boolean),
  );
  const statementsByRole = new Map<string, Statement[]>();
  for (const policy of Object.values(resources).filter((resource) => resource.Type === 'AWS::IAM::Policy')) {
    for (const role of policy.Properties.Roles ?? []) {
      const id = role.Ref as string;
      if (!functionRoles.has(id)) continue;
      statementsByRole.set(id, [...(statementsByRole.get(id) ?? []), ...policy.Properties.PolicyDocument.Statement]);
    }
  }

  it('covers every function role', () => {
    expect(functionRoles.size).toBeGreaterThanOrEqual(8);
    expect(statementsByRole.size).toBe(functionRoles.size);
  });

  it('grants no "*" or "service:*" action to any function', () => {
    const wide: string[] = [];
    for (const [role, statements] of statementsByRole) {
      for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
        for (const action of [statement.Action].flat()) if (action === '*' || action.endsWith(':*')) wide.push(`${role}: ${action}`);
      }
    }
    expect(wide).toEqual([]);
  });

  it('grants no data action (DynamoDB, S3, KMS, secrets) on Resource "*"', () => {
    const wide: string[] = [];
    for (const [role, statements] of statementsByRole) {
      for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
        if (![statement.Resource].flat().includes('*')) continue;
        for (const action of [statement.Action].flat()) if (DATA_SERVICES.includes(action.split(':')[0])) wide.push(`${role}: ${action} on *`);
      }
    }
    expect(wide).toEqual([]);
  });
});
