import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LinkLedger } from '../core/approvals/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';

/** Spent approval-link nonces (`pk = LINK#nonce`): the conditional write is what makes a link single-use. */
export class DynamoLinkLedger implements LinkLedger {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#db = options.client;
    this.#table = options.tableName;
  }

  async spend(nonce: string, record: { runId: string; approver: string; at: string }): Promise<boolean> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { pk: `LINK#${nonce}`, sk: 'LINK', entity: 'SpentLink', ...record, expiresAt: Math.floor(Date.parse(record.at) / 1000) + 30 * 86_400 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowAwsError(error, 'spending an approval link');
    }
  }
}
