import { existsSync } from 'node:fs';
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
