import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { loadConfigAs } from './config-loader.ts';
import type { ConfigSyntax, LoadConfigOptions } from './config-loader.ts';
import type { Config } from '../../core/config/schema.ts';

export type { Config } from '../../core/config/schema.ts';
export type { ConfigOverrides, LoadConfigOptions } from './config-loader.ts';

/** `maestro.config.yaml` and YAML override values. */
const YAML: ConfigSyntax = { name: 'YAML', defaultFile: 'maestro.config.yaml', parseFile: parseYaml, parseValue: parseYaml };

/**
 * The configuration of this process (the embedded stack, the CLI, the synth), from `maestro.config.yaml`
 * (MAESTRO_CONFIG_FILE) and the environment; config-loader.ts has the layers and their precedence. A
 * Lambda bundle reads the same configuration, baked as JSON at synth, with lambda-config.ts.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env, options: LoadConfigOptions = {}): Config {
  return loadConfigAs(YAML, env, options);
}

/**
 * A configuration file's tree as JSON text, as written (no layer or schema applied): what the synth
 * bakes into each Lambda bundle, where lambda-config.ts reads it through the same layers and schema.
 */
export function configFileAsJson(file: string): string {
  return `${JSON.stringify(parseYaml(readFileSync(file, 'utf8')) ?? {}, null, 2)}\n`;
}
