import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the directory that holds `package.json`, `package-lock.json` and `functions/`. */
export const projectRoot: string = fileURLToPath(new URL('..', import.meta.url));

/** An absolute path inside the repository, from a path relative to its root. */
export function projectPath(relativePath: string): string {
  return fileURLToPath(new URL(relativePath, new URL('..', import.meta.url)));
}

/** Whether a path relative to the repository root exists. */
export function projectPathExists(relativePath: string): boolean {
  return existsSync(projectPath(relativePath));
}

/**
 * Writes a generated file only when its text changes (so a synth that changes nothing leaves its
 * assets' hashes alone), through a rename: synths may run side by side.
 */
export function writeIfChanged(file: string, text: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) return;
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}
