import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { allows, allowedActions, arnOf, logicalId, synthMaestro } from './template-support.ts';

describe('Outbox', () => {
  // GIVEN the Maestro stack (bundling skipped)
  const { stack, template } = synthMaestro();
  const outbox = stack.outbox;
  const relayRole = logicalId(outbox.relay.role!);
  const opsApiRole = logicalId(stack.api.opsHandler.role!);
  const runApiRole = logicalId(stack.api.handler.role!);

  it('feeds the relay from the state table stream, new outbox rows only, with retries, bisection, partial batch failures and a batch DLQ', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(outbox.relay) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.stateTable.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumRetryAttempts: 10,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: arnOf(outbox.batchDeadLetterQueue) } },
      FilterCriteria: {
        Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { Keys: { pk: { S: [{ prefix: 'OUTBOX#' }] } } } }) }],
      },
    });
  });

  it('runs the relay handler with the bus name, and lets it publish to that bus and nothing else', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: { Variables: Match.objectLike({ MAESTRO_EVENT_BUS_NAME: { Ref: logicalId(outbox.eventBus) } }) },
    });
    expect(outbox.relay.entryPath).toBe('functions/handlers/outbox/relay.ts');
    expect(allows(template, relayRole, 'events:PutEvents', arnOf(outbox.eventBus))).toBe(true);
    expect(allowedActions(template, relayRole).filter((pair) => pair.action === 'events:PutEvents')).toHaveLength(1);
  });

  it('reads the stream of the state table only (no stream action on "*")', () => {
    const streamArn = { 'Fn::GetAtt': [logicalId(stack.stateTable.table), 'StreamArn'] };
    for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']) {
      expect(allows(template, relayRole, action, streamArn)).toBe(true);
    }
    expect(allowedActions(template, relayRole).filter((pair) => pair.action.startsWith('dynamodb:') && pair.resource === '"*"')).toEqual([]);
  });

  it('keeps undeliverable batches in an encrypted, SSL-only queue for 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('lets the operations API re-drive dead letters: it may publish to the bus and knows its name; the run API may not', () => {
    expect(allows(template, opsApiRole, 'events:PutEvents', arnOf(outbox.eventBus))).toBe(true);
    expect(allows(template, runApiRole, 'events:PutEvents', arnOf(outbox.eventBus))).toBe(false);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Maestro HTTP API: DR'),
      Environment: { Variables: Match.objectLike({ MAESTRO_EVENT_BUS_NAME: { Ref: logicalId(outbox.eventBus) } }) },
    });
  });

  it('refuses a bad retryAttempts at synth, quoting it', async () => {
    const { Outbox } = await import('../../lib/outbox.ts');
    expect(() => new Outbox(stack, 'BadOutbox', { stateTable: stack.stateTable, artifactVault: stack.artifactVault, retryAttempts: -1 })).toThrow(
      /retryAttempts .* got -1/,
    );
  });
});
