import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ArtifactVault } from './artifact-vault.ts';
import { MaestroFunction } from './maestro-function.ts';
import { acknowledgeNag } from './nag.ts';
import type { StateTable } from './state-table.ts';
import { envVar } from '../functions/core/config/environment-variables.ts';

/** Properties of an {@link Outbox}. */
export interface OutboxProps {
  /** The state table whose stream carries the outbox rows. */
  readonly stateTable: StateTable;
  /** The artifact vault (its name is passed to the relay, like to every Maestro function). */
  readonly artifactVault: ArtifactVault;

  /**
   * The bus the relay publishes to.
   *
   * @default - a new custom bus named `maestro`
   */
  readonly eventBus?: events.IEventBus;

  /**
   * Times the stream hands a failing batch to the relay again before it goes to the batch DLQ.
   * (Failed deliveries do not fail the batch: the relay keeps them as dead letters in the table.)
   *
   * @default 10
   */
  readonly retryAttempts?: number;

  /**
   * How long the relay's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Outbox rows: `pk` begins with this (see functions/adapters/outbox-items.ts). */
export const OUTBOX_PK_PREFIX = 'OUTBOX#';

/**
 * The outbox relay: the state table's stream, filtered to new outbox rows, feeds a Lambda that
 * publishes each row to an EventBridge bus (source `maestro`, detail-type the event type, detail
 * with `id` = runId#seq for consumers to dedupe on), at least once. Deliveries that keep failing
 * are kept as dead letters in the table (re-driven by `POST /outbox/redrive`); a batch the relay
 * cannot handle at all (the table unreachable) lands, after the retries, in an SQS queue.
 */
export class Outbox extends Construct {
  readonly eventBus: events.IEventBus;
  readonly relay: MaestroFunction;
  /** Batches the relay could not handle after every retry (stream positions, for investigation). */
  readonly batchDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: OutboxProps) {
    super(scope, id);
    const retryAttempts = props.retryAttempts ?? 10;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 10_000) {
      throw new Error(`Outbox ${this.node.path}: retryAttempts must be an integer from 0 to 10000, got ${String(retryAttempts)}`);
    }

    this.eventBus = props.eventBus ?? new events.EventBus(this, 'Bus', { eventBusName: 'maestro' });

    this.relay = new MaestroFunction(this, 'Relay', {
      entry: 'functions/handlers/outbox/relay.ts',
      description: 'Maestro outbox relay: state table stream → EventBridge',
      stateTable: props.stateTable,
      artifactVault: props.artifactVault,
      timeout: Duration.seconds(60),
      logRetention: props.logRetention,
      environment: { [envVar('outbox.eventBusName')]: this.eventBus.eventBusName },
    });
    this.eventBus.grantPutEventsTo(this.relay);

    this.batchDeadLetterQueue = new sqs.Queue(this, 'BatchDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.batchDeadLetterQueue.grantSendMessages(this.relay);
    acknowledgeNag(this.batchDeadLetterQueue, {
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the on-failure destination of the stream-to-relay event source mapping (batches that exhausted their retries). cdk-nag only recognises DLQs of other SQS queues; a DLQ behind it would only move the same messages, which the API lists and re-drives.',
    });

    // Stream read on this table's stream only (CDK's grantStreamRead adds ListStreams on "*").
    this.relay.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        resources: [props.stateTable.tableStreamArn],
      }),
    );
    props.stateTable.encryptionKey.grantDecrypt(this.relay);

    new lambda.EventSourceMapping(this, 'StreamToRelay', {
      target: this.relay,
      eventSourceArn: props.stateTable.tableStreamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      retryAttempts,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
      onFailure: new SqsDlq(this.batchDeadLetterQueue),
      // Only new outbox rows reach the relay: no invocation for runs, tasks, events, TTL deletions.
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('INSERT'),
          dynamodb: { Keys: { pk: { S: lambda.FilterRule.beginsWith(OUTBOX_PK_PREFIX) } } },
        }),
      ],
    });
  }

  /** Lets a function publish to the bus (the API, for `POST /outbox/redrive`) and tells it the bus name. */
  grantPublish(fn: lambda.Function): iam.Grant {
    fn.addEnvironment(envVar('outbox.eventBusName'), this.eventBus.eventBusName);
    return this.eventBus.grantPutEventsTo(fn);
  }
}
