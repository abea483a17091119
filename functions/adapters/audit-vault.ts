import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AuditHeadStore, StoredAuditHeads } from '../core/audit/ports.ts';
import { checkpointObjectKey, checkpointPrefix, headObjectKey } from '../core/audit/signed-head.ts';
import type { SignedAuditHead } from '../core/audit/signed-head.ts';
import { rethrowAwsError } from './aws-errors.ts';

/**
 * Signed audit heads as JSON objects in the artifact vault: a run's final head at
 * `audit/heads/{runId}.json`, and every head (checkpoints while it runs, the final one too) at
 * `audit/checkpoints/{runId}/{eventCount}.json`. The bucket is versioned (and Object-Locked in AWS),
 * so an overwritten head keeps its earlier versions.
 */
export class AuditVault implements AuditHeadStore {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(options: { client: S3Client; bucket: string }) {
    this.#s3 = options.client;
    this.#bucket = options.bucket;
  }

  async list(runId: string): Promise<StoredAuditHeads> {
    const keys = await this.#checkpointKeys(runId);
    const checkpoints = await Promise.all(keys.map((key) => this.#read(key, runId)));
    return { final: await this.#read(headObjectKey(runId), runId), checkpoints: checkpoints.filter((head) => head !== undefined) };
  }

  async latest(runId: string, options: { final?: boolean } = {}): Promise<{ final?: SignedAuditHead; checkpoint?: SignedAuditHead }> {
    const last = (await this.#checkpointKeys(runId)).at(-1);
    const [final, checkpoint] = await Promise.all([
      options.final === false ? undefined : this.#read(headObjectKey(runId), runId),
      last ? this.#read(last, runId) : undefined,
    ]);
    return { final, checkpoint };
  }

  async put(head: SignedAuditHead, options: { final?: boolean } = {}): Promise<void> {
    await this.#write(checkpointObjectKey(head.runId, head.eventCount), head);
    if (options.final) await this.#write(headObjectKey(head.runId), head);
  }

  /** The checkpoint keys in seq order (zero-padded, so S3's key order is seq order). */
  async #checkpointKeys(runId: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.#s3.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: checkpointPrefix(runId), ContinuationToken: token }));
        for (const object of page.Contents ?? []) if (object.Key?.endsWith('.json')) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      return rethrowAwsError(error, `listing the audit checkpoints of run ${runId}`);
    }
    return keys.sort();
  }

  async #read(key: string, runId: string): Promise<SignedAuditHead | undefined> {
    try {
      const result = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      return JSON.parse(await result.Body!.transformToString()) as SignedAuditHead;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
      return rethrowAwsError(error, `reading the audit head ${key} of run ${runId}`);
    }
  }

  async #write(key: string, head: SignedAuditHead): Promise<void> {
    try {
      await this.#s3.send(
        new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: `${JSON.stringify(head, null, 2)}\n`, ContentType: 'application/json' }),
      );
    } catch (error) {
      rethrowAwsError(error, `writing the audit head ${key} of run ${head.runId}`);
    }
  }
}
