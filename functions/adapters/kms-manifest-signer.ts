import { GetPublicKeyCommand, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';
import type { KMSClient } from '@aws-sdk/client-kms';
import { createPublicKey } from 'node:crypto';
import type { ManifestSigner } from '../core/dr/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';

/** Signs and verifies SHA-256 digests with the KMS manifest key (ECC_NIST_P256, ECDSA_SHA_256, MessageType DIGEST). */
export class KmsManifestSigner implements ManifestSigner {
  readonly keyId: string;
  readonly #kms: KMSClient;

  constructor(options: { client: KMSClient; keyId: string }) {
    this.#kms = options.client;
    this.keyId = options.keyId;
  }

  async sign(digest: Buffer) {
    const out = await this.#kms
      .send(new SignCommand({ KeyId: this.keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }))
      .catch((e) => rethrowAwsError(e, 'signing the manifest'));
    return { signature: Buffer.from(out.Signature!), keyId: out.KeyId ?? this.keyId };
  }

  async verify(digest: Buffer, signature: Buffer): Promise<boolean> {
    try {
      const out = await this.#kms.send(
        new VerifyCommand({ KeyId: this.keyId, Message: digest, MessageType: 'DIGEST', Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' }),
      );
      return out.SignatureValid === true;
    } catch (error) {
      if (error instanceof Error && error.name === 'KMSInvalidSignatureException') return false;
      return rethrowAwsError(error, 'verifying the manifest signature');
    }
  }

  async publicKeyPem(): Promise<string> {
    const out = await this.#kms.send(new GetPublicKeyCommand({ KeyId: this.keyId })).catch((e) => rethrowAwsError(e, 'reading the public key'));
    return createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' })
      .export({ format: 'pem', type: 'spki' })
      .toString();
  }
}
