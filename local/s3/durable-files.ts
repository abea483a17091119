import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A fresh, unguessable file name part: 24 random bytes, base64url (32 characters). */
export function randomId(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Writes JSON so a crash leaves either the old or the new content, never a torn file:
 * the temp file (in `tempDir`, same filesystem) is flushed to disk and then renamed over the target.
 */
export async function writeJsonAtomically(tempDir: string, target: string, value: unknown): Promise<void> {
  const temp = join(tempDir, `${randomId()}.json`);
  try {
    await writeFile(temp, JSON.stringify(value), { flush: true });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
