import { KMSInvalidSignatureException, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { HeadSigner } from '../core/audit/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';

/** ECDSA_SHA_256 signatures over raw messages with a KMS key (by alias or id). */
export class KmsSigner implements HeadSigner {
  readonly keyId: string;
  readonly #kms: KMSClient;

  constructor(options: { client: KMSClient; keyId: string }) {
    this.#kms = options.client;
    this.keyId = options.keyId;
  }

  async sign(message: Uint8Array): Promise<{ signature: string; keyId: string }> {
    try {
      const result = await this.#kms.send(new SignCommand({ KeyId: this.keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
      return { signature: Buffer.from(result.Signature!).toString('base64'), keyId: result.KeyId ?? this.keyId };
    } catch (error) {
      return rethrowAwsError(error, `signing with ${this.keyId}`);
    }
  }

  async verify(message: Uint8Array, signature: string): Promise<boolean> {
    try {
      const result = await this.#kms.send(
        new VerifyCommand({
          KeyId: this.keyId,
          Message: message,
          MessageType: 'RAW',
          Signature: Buffer.from(signature, 'base64'),
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      return result.SignatureValid === true;
    } catch (error) {
      if (error instanceof KMSInvalidSignatureException) return false;
      return rethrowAwsError(error, `verifying with ${this.keyId}`);
    }
  }
}
