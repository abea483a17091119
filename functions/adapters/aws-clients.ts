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
 * One SDK client, from `config.aws` (and, for a client built on another, the pool's `use`). Each is
 * its own export so that a function's composition root that names only the clients it uses bundles
 * only their packages (the others are never referenced, so esbuild drops them).
 */
export type ClientPart<Client> = (aws: Config['aws'], use: <Other>(part: ClientPart<Other>) => Other) => Client;

export const dynamodbRawClient: ClientPart<DynamoDBClient> = (aws) => new DynamoDBClient(clientOptions(aws, 'dynamodb'));
/** The document client shares the plain client's connections (its destroy() is a no-op). */
export const dynamodbClient: ClientPart<DynamoDBDocumentClient> = (_aws, use) =>
  DynamoDBDocumentClient.from(use(dynamodbRawClient), { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
export const dynamodbStreamsClient: ClientPart<DynamoDBStreamsClient> = (aws) => new DynamoDBStreamsClient(clientOptions(aws, 'dynamodbStreams'));
/** Off AWS, S3 needs path-style addressing (local endpoints have no per-bucket host names). */
export const s3Client: ClientPart<S3Client> = (aws) =>
  new S3Client({ ...clientOptions(aws, 's3'), forcePathStyle: aws.s3ForcePathStyle ?? Boolean(aws.endpoints.s3 ?? aws.endpoints.default) });
export const sfnClient: ClientPart<SFNClient> = (aws) => new SFNClient(clientOptions(aws, 'sfn'));
export const kmsClient: ClientPart<KMSClient> = (aws) => new KMSClient(clientOptions(aws, 'kms'));
export const eventbridgeClient: ClientPart<EventBridgeClient> = (aws) => new EventBridgeClient(clientOptions(aws, 'eventbridge'));
export const sesv2Client: ClientPart<SESv2Client> = (aws) => new SESv2Client(clientOptions(aws, 'sesv2'));
export const lambdaClient: ClientPart<LambdaClient> = (aws) => new LambdaClient(clientOptions(aws, 'lambda'));
export const ssmClient: ClientPart<SSMClient> = (aws) => new SSMClient(clientOptions(aws, 'ssm'));
export const cloudwatchClient: ClientPart<CloudWatchClient> = (aws) => new CloudWatchClient(clientOptions(aws, 'cloudwatch'));

/** The clients of one process: each built on first use and kept, so a function pays only for the clients its step touches. */
export class ClientPool {
  readonly #built = new Map<ClientPart<unknown>, unknown>();
  readonly aws: Config['aws'];
  constructor(aws: Config['aws']) {
    this.aws = aws;
  }

  use<Client>(part: ClientPart<Client>): Client {
    if (!this.#built.has(part))
      this.#built.set(
        part,
        part(this.aws, (other) => this.use(other)),
      );
    return this.#built.get(part) as Client;
  }

  /** Closes every client's connections (the embedded stack at stop). */
  destroy(): void {
    for (const client of this.#built.values()) (client as { destroy(): void }).destroy();
    this.#built.clear();
  }
}

/**
 * Every SDK client, built once per process from `config.aws` (through `pool`, which the ports of the
 * same composition root share): the same code talks to AWS, to the embedded stack and to LocalStack.
 */
export function createAwsClients(aws: Config['aws'], pool: ClientPool = new ClientPool(aws)): AwsClients {
  const parts: { [Name in Exclude<keyof AwsClients, 'destroy'>]: ClientPart<AwsClients[Name]> } = {
    dynamodb: dynamodbClient,
    dynamodbRaw: dynamodbRawClient,
    dynamodbStreams: dynamodbStreamsClient,
    s3: s3Client,
    sfn: sfnClient,
    kms: kmsClient,
    eventbridge: eventbridgeClient,
    sesv2: sesv2Client,
    lambda: lambdaClient,
    ssm: ssmClient,
    cloudwatch: cloudwatchClient,
  };
  const clients = { destroy: () => pool.destroy() } as AwsClients;
  for (const [name, part] of Object.entries(parts)) {
    Object.defineProperty(clients, name, { enumerable: true, get: () => pool.use(part as ClientPart<unknown>) });
  }
  return clients;
}
