import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClients {
  dynamodb: DynamoDBDocumentClient;
  s3: S3Client;
  sfn: SFNClient;
  kms: KMSClient;
}

/**
 * The real SDK clients. Endpoints come from the SDK's own `AWS_ENDPOINT_URL_*` variables, so the
 * same code talks to AWS, to the embedded stack and to LocalStack; only S3 needs path-style
 * addressing off AWS (local endpoints have no per-bucket host names).
 */
export function createAwsClients(options: { s3ForcePathStyle: boolean }): AwsClients {
  return {
    dynamodb: DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
    s3: new S3Client({ forcePathStyle: options.s3ForcePathStyle }),
    sfn: new SFNClient({}),
    kms: new KMSClient({}),
  };
}
