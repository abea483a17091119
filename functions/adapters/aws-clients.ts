import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SSMClient } from '@aws-sdk/client-ssm';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../core/config/schema.ts';

export interface AwsClients {
  /** The document client every repository uses (undefined attributes dropped). */
  dynamodb: DynamoDBDocumentClient;
  /** The plain client, for code that works on attribute values (DR table data). */
  dynamodbRaw: DynamoDBClient;
  dynamodbStreams: DynamoDBStreamsClient;
  s3: S3Client;
  sfn: SFNClient;
  kms: KMSClient;
  eventbridge: EventBridgeClient;
  sesv2: SESv2Client;
  lambda: LambdaClient;
  /** SSM Parameter Store and CloudWatch: managed targets of the deploy and configuration actions. */
  ssm: SSMClient;
  cloudwatch: CloudWatchClient;
  /** Closes every client's connections (the embedded stack at stop). */
  destroy(): void;
}

type Service = keyof Config['aws']['endpoints'];

/** Region, credentials and the service's endpoint from `config.aws`; what is unset comes from the SDK's own chain. */
export function clientOptions(aws: Config['aws'], service: Exclude<Service, 'default'>) {
  const endpoint = aws.endpoints[service] ?? aws.endpoints.default;
  return {
    ...(aws.region ? { region: aws.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(aws.credentials ? { credentials: { ...aws.credentials } } : {}),
  };
}

/**
 * The SDK clients, built once per process from `config.aws`: the same code talks to AWS, to the
 * embedded stack and to LocalStack. Off AWS, S3 needs path-style addressing (local endpoints have no
 * per-bucket host names).
 */
export function createAwsClients(aws: Config['aws']): AwsClients {
  const s3Endpoint = aws.endpoints.s3 ?? aws.endpoints.default;
  // Each client is built on first use and kept: a function pays only for the clients its step touches.
  const factories: { [Name in Exclude<keyof AwsClients, 'destroy'>]: () => AwsClients[Name] } = {
    dynamodb: () => DynamoDBDocumentClient.from(clients.dynamodbRaw, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } }),
    dynamodbRaw: () => new DynamoDBClient(clientOptions(aws, 'dynamodb')),
    dynamodbStreams: () => new DynamoDBStreamsClient(clientOptions(aws, 'dynamodbStreams')),
    s3: () => new S3Client({ ...clientOptions(aws, 's3'), forcePathStyle: aws.s3ForcePathStyle ?? Boolean(s3Endpoint) }),
    sfn: () => new SFNClient(clientOptions(aws, 'sfn')),
    kms: () => new KMSClient(clientOptions(aws, 'kms')),
    eventbridge: () => new EventBridgeClient(clientOptions(aws, 'eventbridge')),
    sesv2: () => new SESv2Client(clientOptions(aws, 'sesv2')),
    lambda: () => new LambdaClient(clientOptions(aws, 'lambda')),
    ssm: () => new SSMClient(clientOptions(aws, 'ssm')),
    cloudwatch: () => new CloudWatchClient(clientOptions(aws, 'cloudwatch')),
  };
  const built = new Map<string, { destroy(): void }>();
  const clients = {
    // The document client shares the plain client's connections; destroying the plain one closes both.
    destroy: () => {
      for (const [name, client] of built) if (name !== 'dynamodb') client.destroy();
      built.clear();
    },
  } as AwsClients;
  for (const [name, create] of Object.entries(factories)) {
    Object.defineProperty(clients, name, {
      enumerable: true,
      get: () => {
        let client = built.get(name);
        if (!client) built.set(name, (client = (create as () => { destroy(): void })()));
        return client;
      },
    });
  }
  return clients;
}
