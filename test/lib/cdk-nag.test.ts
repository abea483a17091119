import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { MaestroStack } from '../../lib/maestro-stack.ts';
import type { MaestroStackProps } from '../../lib/maestro-stack.ts';
import { logicalId, testApp } from './template-support.ts';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** An app whose synth runs cdk-nag's AwsSolutions pack (cdk-nag 3: a CDK policy-validation plugin). */
function nagApp(): App {
  const app = testApp();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

/**
 * Every unacknowledged finding of an app's synth, errors and warnings, as `rule @ construct path`.
 * Errors make synth throw (naming the report); warnings alone do not, so the report is read either way.
 */
function nagFindings(app: App): string[] {
  let reportFile: string;
  try {
    reportFile = join(app.synth().directory, 'validation-report.json');
  } catch (error) {
    const path = (error as Error).message.match(/found in: (\S+)/)?.[1];
    if (!path) throw error;
    reportFile = path;
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
    pluginReports: Array<{ violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }>;
  };
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((violation) => violation.violatingConstructs.map((construct) => `${violation.ruleName} @ ${construct.constructPath}`)),
  );
}

/** The acknowledgements recorded under a construct: where each sits, its finding id and reason. */
function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason }))),
    );
}

describe('cdk-nag AwsSolutions on the whole MaestroStack', () => {
  it('has zero unacknowledged errors or warnings as bin/app.ts builds it (environment-agnostic, isolated network)', () => {
    // GIVEN the stack with bin/app.ts's props (no credentials: no account or region)
    const app = nagApp();
    new MaestroStack(app, 'Maestro', { description: 'Maestro: control plane for semi-autonomous operations', env: { account: undefined, region: undefined } });
    // WHEN it is synthesized with the AwsSolutions checks / THEN nothing is left unacknowledged
    expect(nagFindings(app)).toEqual([]);
  });

  it('has zero unacknowledged errors or warnings with DR targets, in a fixed environment', () => {
    // GIVEN DR targets as in dr-workflows.test.ts: a table and an S3 prefix, both schedules
    const props: MaestroStackProps = {
      env: ENV,
      drTargets: [
        {
          name: 'orders',
          tables: ['orders'],
          prefixes: [{ bucket: 'orders-files', prefix: 'exports/' }],
          backupSchedule: 'rate(1 day)',
          restoreTestSchedule: 'cron(0 4 ? * SUN *)',
        },
        { name: 'demo', tables: ['maestro-demo'] },
      ],
    };
    const app = nagApp();
    new MaestroStack(app, 'Maestro', props);
    // WHEN / THEN
    expect(nagFindings(app)).toEqual([]);
  });

  it('has zero unacknowledged errors or warnings without the network and with existing managed targets', () => {
    // GIVEN functions outside any VPC, and an existing bucket and table to act on
    const app = nagApp();
    new MaestroStack(app, 'Maestro', { env: ENV, network: false, managedTargets: { existingBucketNames: ['orders-files'], existingTableNames: ['orders'] } });
    // WHEN / THEN
    expect(nagFindings(app)).toEqual([]);
  });

  it('acknowledges each finding on the construct that owns it, with a specific reason, never stack-wide', () => {
    // GIVEN the stack with DR targets
    const app = testApp();
    const stack = new MaestroStack(app, 'Maestro', { env: ENV, drTargets: [{ name: 'orders', tables: ['orders'] }] });
    // WHEN its acknowledgements are collected
    const acks = acknowledgements(app).filter((ack) => ack.id.includes('AwsSolutions-')); // not the CDK's own (CloudFormation-Validate::…)
    // THEN they are specific (IAM5 names the wildcard, no bare rule id) and none sits on the stack or the app
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.path, ack.id).not.toBe(stack.node.path);
      expect(ack.path, ack.id).not.toBe('');
      expect(ack.reason.length, `${ack.id} @ ${ack.path}`).toBeGreaterThanOrEqual(60);
      if (/IAM[45]/.test(ack.id)) expect(ack.id).toMatch(/::AwsSolutions-IAM[45]\[(Action|Resource|Policy)::.+\]$/);
    }
    // The APIs' APIG4 acknowledgements are per method: the approval-link routes and the webhook (on both APIs) and the console's static pages say so.
    const openAcks = acks.filter((ack) => ack.id.endsWith('::AwsSolutions-APIG4'));
    const linkAcks = openAcks.filter((ack) => /approvals\/\{token\}|webhooks\/\{id\}/.test(ack.path));
    expect(linkAcks.map((ack) => ack.path).sort()).toEqual([
      'Maestro/Api/Bearer/Default/approvals/{token}/GET',
      'Maestro/Api/Bearer/Default/approvals/{token}/POST',
      'Maestro/Api/Bearer/Default/webhooks/{id}/POST',
      'Maestro/Api/Resource/Default/approvals/{token}/GET',
      'Maestro/Api/Resource/Default/approvals/{token}/POST',
      'Maestro/Api/Resource/Default/webhooks/{id}/POST',
    ]);
    for (const ack of linkAcks) expect(ack.reason).toMatch(/KMS/);
    const others = openAcks.filter((ack) => !linkAcks.includes(ack));
    expect(others.map((ack) => ack.path).sort()).toEqual([
      'Maestro/Api/Bearer/Default/console/GET',
      'Maestro/Api/Bearer/Default/console/{asset}/GET',
      'Maestro/Api/Resource/Default/console/GET',
      'Maestro/Api/Resource/Default/console/{asset}/GET',
    ]);
    for (const ack of others) expect(ack.reason).toMatch(/Content-Security-Policy|static/);
  });
});

describe('cdk-nag AwsSolutions is really active (so the checks above can fail)', () => {
  it('reports an error finding: a bucket without server access logs', () => {
    // GIVEN a scratch stack with a deliberately non-compliant bucket
    const app = nagApp();
    new s3.Bucket(new Stack(app, 'Scratch', { env: ENV }), 'Unlogged', { enforceSSL: true });
    // WHEN / THEN
    expect(nagFindings(app)).toContain('AwsSolutions-S1 @ Scratch/Unlogged/Resource');
  });

  it('reports a warning finding even though a warning alone does not fail synth: a table without point-in-time recovery', () => {
    // GIVEN a scratch stack whose only finding is a warning (DDB3)
    const app = nagApp();
    new dynamodb.Table(new Stack(app, 'Scratch', { env: ENV }), 'NoPitr', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    // WHEN / THEN
    expect(nagFindings(app)).toContain('AwsSolutions-DDB3 @ Scratch/NoPitr/Resource');
  });

  it('reports a finding of the MaestroStack itself once its acknowledgement is missing', () => {
    // GIVEN the stack plus one grant nobody acknowledged (Plan, which holds no vault grant, may delete any object of the artifact vault)
    const app = nagApp();
    const stack = new MaestroStack(app, 'Maestro', { env: ENV, network: false });
    stack.artifactVault.bucket.grantDelete(stack.runWorkflow.functions.Plan);
    // WHEN / THEN: exactly the grant's two wildcards are reported, on Plan's policy
    const policy = 'Maestro/RunWorkflow/PlanFunction/ServiceRole/DefaultPolicy/Resource';
    expect(nagFindings(app).sort()).toEqual([
      `AwsSolutions-IAM5[Action::s3:DeleteObject*] @ ${policy}`,
      `AwsSolutions-IAM5[Resource::<${logicalId(stack.artifactVault.bucket)}.Arn>/*] @ ${policy}`,
    ]);
  });
});
