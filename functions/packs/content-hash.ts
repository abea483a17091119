import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PackInvalid } from '../core/errors.ts';

/** Folders a pack's content leaves out: its installed dependencies (npm packages) and version control. */
const EXCLUDED_FOLDERS: ReadonlySet<string> = new Set(['node_modules', '.git']);

/** Every regular file under `dir`, as sorted `/`-separated relative paths; a symbolic link is refused (it could point outside the pinned content). */
export function packFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isSymbolicLink()) throw new PackInvalid(`${join(dir, path)} is a symbolic link: a pack's content is its own files only`);
      if (entry.isDirectory()) {
        if (!EXCLUDED_FOLDERS.has(entry.name)) walk(path);
      } else if (entry.isFile()) files.push(path);
    }
  };
  if (!lstatSync(dir).isDirectory()) throw new PackInvalid(`${dir} is not a folder`);
  walk('');
  // By code unit, not locale: the order (and so the hash) is the same on every machine.
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The SHA-256 of a pack's content, in hex: for every file (sorted by path, `node_modules` and `.git`
 * left out), its path, a NUL, its size in bytes as decimal, a NUL, then its bytes. The path and size
 * frame each file, so no two different trees hash the same way by moving bytes between files.
 */
export function hashPack(dir: string): string {
  const hash = createHash('sha256');
  for (const path of packFiles(dir)) {
    const bytes = readFileSync(join(dir, path));
    hash.update(`${path}\0${bytes.length}\0`, 'utf8');
    hash.update(bytes);
  }
  return hash.digest('hex');
}
