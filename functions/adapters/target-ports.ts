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

/** Each port's adapter from its client. */
export type TargetAdapters = {
  readonly [K in keyof TargetPorts]: (client: TargetClients[PortClient[K]]) => TargetPorts[K] | Promise<TargetPorts[K]>;
};
const PORT_CLIENT = { objects: 's3', items: 'dynamodb', aliases: 'lambda', parameters: 'ssm', alarms: 'cloudwatch' } as const;
type PortClient = typeof PORT_CLIENT;

/** A port built on its first call (its client, and maybe its adapter's module, made then). */
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

/** Every port an action may be given on the managed targets, from their clients and adapters: the executors and the sandbox build them here. */
export function createTargetPorts(clients: TargetClientFactories, adapters: TargetAdapters): TargetPorts {
  const port = <K extends keyof TargetPorts>(key: K) =>
    deferred(async () => (adapters[key] as (client: unknown) => TargetPorts[K] | Promise<TargetPorts[K]>)(await clients[PORT_CLIENT[key]]()));
  return { objects: port('objects'), items: port('items'), aliases: port('aliases'), parameters: port('parameters'), alarms: port('alarms') };
}

/** The factories of clients that exist already (an executor's, from createAwsClients). */
export const existingClients = (clients: TargetClients): TargetClientFactories => ({
  s3: () => clients.s3,
  dynamodb: () => clients.dynamodb,
  lambda: () => clients.lambda,
  ssm: () => clients.ssm,
  cloudwatch: () => clients.cloudwatch,
});
