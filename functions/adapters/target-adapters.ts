import { CloudWatchAlarmReader } from './cloudwatch-alarm-reader.ts';
import { DynamoItemStore } from './dynamo-item-store.ts';
import { LambdaAliasStore } from './lambda-alias-store.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { SsmParameterStore } from './ssm-parameter-store.ts';
import type { TargetAdapters } from './target-ports.ts';

/** The target adapters imported at once, as an executor's bundle needs them: esbuild keeps only the SDK commands they send. */
export const targetAdapters: TargetAdapters = {
  objects: (client) => new S3ObjectStore(client),
  items: (client) => new DynamoItemStore(client),
  aliases: (client) => new LambdaAliasStore(client),
  parameters: (client) => new SsmParameterStore(client),
  alarms: (client) => new CloudWatchAlarmReader(client),
};
