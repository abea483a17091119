import { loadConfigAs } from './config-loader.ts';
import type { ConfigSyntax, LoadConfigOptions } from './config-loader.ts';
import type { Config } from '../../core/config/schema.ts';

/** The file a Lambda bundle carries: maestro.config.yaml's tree as JSON (lib/maestro-function.ts bakes it at synth). */
export const BAKED_CONFIG_FILE = 'maestro.config.json';

/**
 * JSON, so that no Lambda bundle carries a YAML parser (about 120 KiB). An override value that is not
 * JSON is taken as text, as YAML takes a plain scalar (`MAESTRO_CONFIG__a=dev` is the string "dev").
 */
const JSON_SYNTAX: ConfigSyntax = {
  name: 'JSON',
  defaultFile: BAKED_CONFIG_FILE,
  parseFile: (text) => JSON.parse(text),
  parseValue: (text) => {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  },
};

/**
 * The configuration of a Lambda function: its bundle's baked file (MAESTRO_CONFIG_FILE) and its
 * environment, through the same layers and the same schema as loadConfig (config-loader.ts).
 */
export function loadLambdaConfig(env: Readonly<Record<string, string | undefined>> = process.env, options: LoadConfigOptions = {}): Config {
  return loadConfigAs(JSON_SYNTAX, env, options);
}
