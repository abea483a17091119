import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ActionContext } from '../core/actions/contract.ts';

/** The SDK clients of the managed targets: what an executor holds, and nothing of Maestro's own. */
export interface TargetClients {
  s3: S3Client;
  dynamodb: DynamoDBDocumentClient;
  lambda: LambdaClient;
  ssm: SSMClient;
  cloudwatch: CloudWatchClient;
}

/** Each client, made when its port is first called (a client may already exist: `() => clients.s3`). */
export type TargetClientFactories = { readonly [K in keyof TargetClients]: () => TargetClients[K] | Promise<TargetClients[K]> };

export type TargetPorts = Required<Pick<ActionContext, 'objects' | 'items' | 'aliases' | 'parameters' | 'alarms'>>;

/**
 * A port whose adapter (and the SDK client package it imports) is loaded on its first call. A sandbox
 * process lives for one apply of one action, which calls one or two services: it never pays for
 * loading the others.
 */
function deferred<T extends object>(load: () => Promise<T>): T {
  let port: Promise<T> | undefined;
  return new Proxy({} as T, {
    get: (_target, method) =>
      // Not a thenable: awaiting a port must not call it.
      method === 'then'
        ? undefined
        : async (...args: unknown[]) => {
            const loaded = await (port ??= load());
            return (loaded as Record<PropertyKey, (...parameters: unknown[]) => unknown>)[method](...args);
          },
  });
}

/** Every port an action may be given on the managed targets, from their clients: the executors and the sandbox build them here. */
export function createTargetPorts(clients: TargetClientFactories): TargetPorts {
  return {
    objects: deferred(async () => new (await import('./s3-object-store.ts')).S3ObjectStore(await clients.s3())),
    items: deferred(async () => new (await import('./dynamo-item-store.ts')).DynamoItemStore(await clients.dynamodb())),
    aliases: deferred(async () => new (await import('./lambda-alias-store.ts')).LambdaAliasStore(await clients.lambda())),
    parameters: deferred(async () => new (await import('./ssm-parameter-store.ts')).SsmParameterStore(await clients.ssm())),
    alarms: deferred(async () => new (await import('./cloudwatch-alarm-reader.ts')).CloudWatchAlarmReader(await clients.cloudwatch())),
  };
}

/** The factories of clients that exist already (an executor's, from createAwsClients). */
export const existingClients = (clients: TargetClients): TargetClientFactories => ({
  s3: () => clients.s3,
  dynamodb: () => clients.dynamodb,
  lambda: () => clients.lambda,
  ssm: () => clients.ssm,
  cloudwatch: () => clients.cloudwatch,
});
