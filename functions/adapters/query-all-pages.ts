import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient, QueryCommandInput, QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { rethrowAwsError } from './aws-errors.ts';

/**
 * The pages of one Query, following `LastEvaluatedKey` until DynamoDB has no more (a page ends at
 * 1 MB). With `limit`, each page asks only for the items still missing and the paging stops once
 * `limit` items (`Count`) were read. A failure is rethrown as `doing` (see rethrowAwsError).
 */
export async function* queryPages(
  db: DynamoDBDocumentClient,
  input: QueryCommandInput,
  doing: string,
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<QueryCommandOutput> {
  let read = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    let page: QueryCommandOutput;
    try {
      page = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey, ...(Number.isFinite(limit) ? { Limit: limit - read } : {}) }));
    } catch (error) {
      return rethrowAwsError(error, doing);
    }
    yield page;
    read += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey && read < limit);
}

/** Every item one Query matches (at most `limit`), in the index's order: all of {@link queryPages}' pages. */
export async function queryAllPages(
  db: DynamoDBDocumentClient,
  input: QueryCommandInput,
  doing: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of queryPages(db, input, doing, limit)) items.push(...(page.Items ?? []));
  return items;
}
