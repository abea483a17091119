import type { LinkSigner } from '../approvals/links.ts';

/**
 * A webhook trigger's shared secret, derived (never stored): the HMAC, under the KMS key that signs
 * approval links, of a message no link can be (links MAC JSON bodies), bound to the trigger and the
 * secret's generation. Both sides compute HMAC-SHA-256 of the body under it.
 */
export async function webhookSecret(signer: LinkSigner, triggerId: string, secretVersion = 1): Promise<string> {
  return (await signer.mac(Buffer.from(`maestro-webhook-secret:${triggerId}:${secretVersion}`))).toString('hex');
}
