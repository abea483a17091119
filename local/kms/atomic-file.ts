// Writes a private file so readers see either the old or the new content,
// never a torn one, and nobody but the owner can read it.

import { open, rename, rm } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomUUID } from 'node:crypto';

const PRIVATE_FILE_MODE = 0o600;

export async function writePrivateFileAtomic(path: string, content: string): Promise<void> {
  const temporaryPath = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  try {
    const file = await open(temporaryPath, 'wx', PRIVATE_FILE_MODE);
    try {
      // The umask can only narrow the mode, but chmod makes 0600 explicit anyway.
      await file.chmod(PRIVATE_FILE_MODE);
      await file.writeFile(content, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporaryPath, path);
  } catch (error) {
    await rm(temporaryPath, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

// Makes the rename itself durable across a power loss.
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch {
    // Some platforms refuse fsync on a directory; the data file is already synced.
  } finally {
    await handle.close();
  }
}
