import type { TargetAdapters } from './target-ports.ts';

/**
 * Each adapter module loaded on its port's first call: a sandbox process lives for one apply of one
 * action, which calls one or two services, so it never pays for loading the others. Never in a
 * Lambda bundle: esbuild does not tree-shake a module a dynamic import reaches (nor what it imports),
 * even from dead code, so every SDK client package would come whole (SSM 185 KiB instead of about
 * 80). Its own module for that reason; the executor's root uses target-adapters.ts.
 */
export const adaptersOnFirstCall: TargetAdapters = {
  objects: async (client) => new (await import('./s3-object-store.ts')).S3ObjectStore(client),
  items: async (client) => new (await import('./dynamo-item-store.ts')).DynamoItemStore(client),
  aliases: async (client) => new (await import('./lambda-alias-store.ts')).LambdaAliasStore(client),
  parameters: async (client) => new (await import('./ssm-parameter-store.ts')).SsmParameterStore(client),
  alarms: async (client) => new (await import('./cloudwatch-alarm-reader.ts')).CloudWatchAlarmReader(client),
};
