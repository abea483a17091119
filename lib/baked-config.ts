import { configFileAsJson } from '../functions/handlers/shared/config.ts';
import { projectPath, writeIfChanged } from './project-paths.ts';

/** Where the baked file is written, relative to the repository root (ignored by git, as the packs' generated entries). */
const BAKED = '.maestro/maestro.config.json';

/**
 * maestro.config.yaml baked as JSON for the bundles (lib/maestro-function.ts copies it into each asset
 * as `maestro.config.json`): a Lambda function parses its configuration with the same layers and
 * schema as every other process, with no YAML parser in its bundle. Returns the file, relative to
 * the repository root.
 */
export function bakedConfigFile(source: string = projectPath('maestro.config.yaml')): string {
  writeIfChanged(projectPath(BAKED), configFileAsJson(source));
  return BAKED;
}
