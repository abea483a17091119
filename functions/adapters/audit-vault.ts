import { GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AuditHeadStore } from '../core/audit/ports.ts';
import { headObjectKey } from '../core/audit/signed-head.ts';
import type { SignedAuditHead } from '../core/audit/signed-head.ts';
import { rethrowAwsError } from './aws-errors.ts';

/**
 * Signed audit heads as JSON objects in the artifact vault (`audit/heads/{runId}.json`). The bucket is
 * versioned (and Object-Locked in AWS), so an overwritten head keeps its earlier versions.
 */
export class AuditVault implements AuditHeadStore {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(options: { client: S3Client; bucket: string }) {
    this.#s3 = options.client;
    this.#bucket = options.bucket;
  }

  async get(runId: string): Promise<SignedAuditHead | undefined> {
    try {
      const result = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: headObjectKey(runId) }));
      return JSON.parse(await result.Body!.transformToString()) as SignedAuditHead;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
      return rethrowAwsError(error, `reading the audit head of run ${runId}`);
    }
  }

  async put(head: SignedAuditHead): Promise<void> {
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: headObjectKey(head.runId),
          Body: `${JSON.stringify(head, null, 2)}\n`,
          ContentType: 'application/json',
        }),
      );
    } catch (error) {
      rethrowAwsError(error, `writing the audit head of run ${head.runId}`);
    }
  }
}
