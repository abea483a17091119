import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb/dynamo-db-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbUrl: string;
  }
}

/** One DynamoDB Local for the whole test run (TOOL-NOTES); each test file uses its own table prefix. */
export default async function setup(project: TestProject) {
  const dynamodb = await startDynamoDbLocal();
  project.provide('dynamodbUrl', dynamodb.url);
  return () => dynamodb.stop();
}
