import { GenerateMacCommand, VerifyMacCommand } from '@aws-sdk/client-kms';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { LinkSigner } from '../core/approvals/links.ts';
import { rethrowAwsError } from './aws-errors.ts';

/** HMAC-SHA-256 with a KMS HMAC key (GenerateMac / VerifyMac): the key never leaves KMS. */
export class KmsLinkSigner implements LinkSigner {
  readonly #kms: KMSClient;
  readonly #keyId: string;

  constructor(options: { client: KMSClient; keyId: string }) {
    this.#kms = options.client;
    this.#keyId = options.keyId;
  }

  async mac(message: Buffer): Promise<Buffer> {
    try {
      const result = await this.#kms.send(new GenerateMacCommand({ KeyId: this.#keyId, MacAlgorithm: 'HMAC_SHA_256', Message: message }));
      return Buffer.from(result.Mac!);
    } catch (error) {
      return rethrowAwsError(error, 'signing an approval link');
    }
  }

  async verify(message: Buffer, mac: Buffer): Promise<boolean> {
    try {
      const result = await this.#kms.send(new VerifyMacCommand({ KeyId: this.#keyId, MacAlgorithm: 'HMAC_SHA_256', Message: message, Mac: mac }));
      return result.MacValid === true;
    } catch (error) {
      if (error instanceof Error && (error.name === 'KMSInvalidMacException' || error.name === 'ValidationException')) return false;
      return rethrowAwsError(error, 'verifying an approval link');
    }
  }
}
