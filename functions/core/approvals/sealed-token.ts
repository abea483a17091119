import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { sha256Hex } from '../canonical-json.ts';
import type { LinkSigner } from './links.ts';

/**
 * The workflow's wait token is never stored in the clear: the approval record keeps its SHA-256 (to
 * recognise it) and an AES-256-GCM sealed copy under a key derived with the KMS approval key
 * (GenerateMac over the run id), so reading the table is not enough to resume a workflow; only code
 * allowed to use the KMS key can unseal it to answer the wait.
 */
export async function sealTaskToken(signer: LinkSigner, runId: string, token: string): Promise<{ hash: string; sealed: string }> {
  const key = await signer.mac(Buffer.from(`maestro-task-token:${runId}`));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return { hash: sha256Hex(token), sealed: [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url')).join('.') };
}

export async function unsealTaskToken(signer: LinkSigner, runId: string, sealed: { hash: string; sealed: string }): Promise<string> {
  const [iv, tag, ciphertext] = sealed.sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
  const key = await signer.mac(Buffer.from(`maestro-task-token:${runId}`));
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  const token = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  if (sha256Hex(token) !== sealed.hash) throw new Error('the sealed task token does not match its hash');
  return token;
}
