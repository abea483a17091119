import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { configFileAsJson } from '../functions/handlers/shared/config.ts';
import { projectPath } from './project-paths.ts';

/** Where the baked file is written, relative to the repository root (ignored by git, as the packs' generated entries). */
const BAKED = '.maestro/maestro.config.json';

/**
 * maestro.config.yaml baked as JSON for the bundles (lib/maestro-function.ts copies it into each asset
 * as `maestro.config.json`): a Lambda function parses its configuration with the same layers and
 * schema as every other process, with no YAML parser in its bundle. Returns the file, relative to
 * the repository root. Rewritten only when its text changes, through a rename (synths may run side by side).
 */
export function bakedConfigFile(source: string = projectPath('maestro.config.yaml')): string {
  const file = projectPath(BAKED);
  const text = configFileAsJson(source);
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== text) {
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}`;
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  }
  return BAKED;
}
