import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ActionContext } from '../core/actions/contract.ts';
import { CloudWatchAlarmReader } from './cloudwatch-alarm-reader.ts';
import { DynamoItemStore } from './dynamo-item-store.ts';
import { LambdaAliasStore } from './lambda-alias-store.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { SsmParameterStore } from './ssm-parameter-store.ts';

/** The SDK clients of the managed targets: what an executor holds, and nothing of Maestro's own. */
export interface TargetClients {
  s3: S3Client;
  dynamodb: DynamoDBDocumentClient;
  lambda: LambdaClient;
  ssm: SSMClient;
  cloudwatch: CloudWatchClient;
}

export type TargetPorts = Required<Pick<ActionContext, 'objects' | 'items' | 'aliases' | 'parameters' | 'alarms'>>;

/** Every port an action may be given on the managed targets, built once from their clients (executors, the sandbox). */
export function createTargetPorts(clients: TargetClients): TargetPorts {
  return {
    objects: new S3ObjectStore(clients.s3),
    items: new DynamoItemStore(clients.dynamodb),
    aliases: new LambdaAliasStore(clients.lambda),
    parameters: new SsmParameterStore(clients.ssm),
    alarms: new CloudWatchAlarmReader(clients.cloudwatch),
  };
}
