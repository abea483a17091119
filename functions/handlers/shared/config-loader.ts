import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { CONFIG_FILE_VARIABLE, CONFIG_OVERRIDE_VARIABLE_PREFIX, ENVIRONMENT_VARIABLES } from '../../core/config/environment-variables.ts';
import { isPathModule } from '../../core/config/packs.ts';
import { CONFIG_SECTIONS, Config } from '../../core/config/schema.ts';
import type { ConfigInput } from '../../core/config/schema.ts';
import { formatIssue } from '../../core/validation.ts';

export type { Config } from '../../core/config/schema.ts';

type Tree = Record<string, unknown>;
type Environment = Readonly<Record<string, string | undefined>>;

/** A deep partial of the configuration's input, applied after every other layer (the embedded stack's own values). */
export type ConfigOverrides = { [Section in keyof ConfigInput]?: Partial<ConfigInput[Section]> };

/**
 * How the configuration file and the `MAESTRO_CONFIG__` overrides are written: YAML (config.ts: the
 * embedded stack, the CLI, the synth) or JSON (lambda-config.ts: a Lambda bundle, whose file the synth
 * bakes as JSON so that it carries no YAML parser).
 */
export interface ConfigSyntax {
  /** `YAML` or `JSON`, for the messages. */
  readonly name: string;
  /** The file the configuration is read from when MAESTRO_CONFIG_FILE and `defaultFile` are unset. */
  readonly defaultFile: string;
  parseFile(text: string): unknown;
  /** An override variable's value; throws when it is not one. */
  parseValue(text: string): unknown;
}

export interface LoadConfigOptions {
  /** Values under the file's (the embedded stack's policy directory). */
  defaults?: ConfigOverrides;
  /** The file when MAESTRO_CONFIG_FILE is unset. @default the syntax's (`maestro.config.yaml`, in a bundle `maestro.config.json`; relative to the bundle or working directory) */
  defaultFile?: string;
  /** Values that win over everything else (the embedded stack's endpoints, table names, auth mode). */
  overrides?: ConfigOverrides;
}

const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null && !Array.isArray(value);
const SECTIONS = new Set<string>(CONFIG_SECTIONS);

/** A key as written in the file or an override (`environments.dev`) → its path in the configuration (`guardrails.environments.dev`). */
const configPath = (segments: readonly string[]) => (SECTIONS.has(segments[0]!) ? [...segments] : ['guardrails', ...segments]);

function setAt(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[path.at(-1)!] = value;
}

function deepMerge(target: Tree, patch: Tree): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (isTree(value) && isTree(target[key])) deepMerge(target[key] as Tree, value);
    else target[key] = structuredClone(value);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Files are found relative to the Lambda bundle in AWS, and to the working directory locally. */
function locate(path: string, env: Environment): string {
  return isAbsolute(path) ? path : join(env.LAMBDA_TASK_ROOT ?? process.cwd(), path);
}

/**
 * The configuration of this process, parsed once, frozen (config.ts and lambda-config.ts give the syntax). Precedence, lowest first:
 *   schema defaults < `options.defaults` < `maestro.config.yaml` (MAESTRO_CONFIG_FILE) < `MAESTRO_CONFIG__a__b` overrides
 *   < dedicated variables (MAESTRO_STATE_TABLE, ..., see core/config/environment-variables.ts) < `options.overrides`.
 * In the file and the overrides, the section names (state, workflows, dr, ...) lead to their
 * section; every other top-level key is a guardrail key (the file's historical layout). A bad value
 * refuses to start, naming the file, variable or key it came from. This is the only place that reads
 * the environment for Maestro's configuration. `policy.dir` comes out absolute, and so does each
 * `packs[].module` given as a folder (resolved from the configuration file's directory).
 */
export function loadConfigAs(syntax: ConfigSyntax, env: Environment, options: LoadConfigOptions = {}): Config {
  const explicitFile = env[CONFIG_FILE_VARIABLE];
  const file = locate(explicitFile || options.defaultFile || syntax.defaultFile, env);
  const raw: Tree = {};
  if (options.defaults) deepMerge(raw, options.defaults as Tree);
  /** Where each value came from, by configuration path, for the error messages. */
  const sources: { path: string[]; source: string; shown: readonly string[] }[] = [];
  const problems: string[] = [];

  // The file: required when named, optional at the default path (a bundle may carry none).
  if (explicitFile || existsSync(file)) {
    let content: unknown;
    try {
      content = syntax.parseFile(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`cannot read the configuration file ${file} (${syntax.name}): ${(error as Error).message}`);
    }
    if (content !== null && content !== undefined && !isTree(content)) throw new Error(`invalid configuration ${file}: must be a mapping of keys`);
    const fromFile: Tree = {};
    for (const [key, value] of Object.entries(content ?? {})) setAt(fromFile, configPath([key]), value);
    deepMerge(raw, fromFile);
  }

  for (const [name, text] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(CONFIG_OVERRIDE_VARIABLE_PREFIX) || text === undefined) continue;
    const segments = name.slice(CONFIG_OVERRIDE_VARIABLE_PREFIX.length).split('__').filter(Boolean);
    if (segments.length === 0) continue;
    // A segment named like an Object.prototype member (`constructor`, `__proto__`...) would walk into the
    // prototype instead of the configuration: refused, naming the variable.
    const inherited = segments.find((key) => key in Object.prototype || key === 'prototype');
    if (inherited) {
      problems.push(`${name}: "${inherited}" cannot be a configuration key`);
      continue;
    }
    let value: unknown;
    try {
      value = syntax.parseValue(text);
    } catch {
      problems.push(`${name}: must be a ${syntax.name} value`);
      continue;
    }
    const path = configPath(segments);
    setAt(raw, path, value);
    sources.push({ path, source: name, shown: [] });
  }

  for (const variable of ENVIRONMENT_VARIABLES) {
    const text = env[variable.name];
    if (text === undefined || text === '') continue;
    let value: unknown = text;
    if (variable.format === 'json') {
      try {
        value = JSON.parse(text);
      } catch {
        problems.push(`${variable.name}: must be JSON`);
        continue;
      }
    } else if (variable.format === 'flag') {
      if (text !== 'true' && text !== 'false') {
        problems.push(`${variable.name}: must be true or false`);
        continue;
      }
      value = text === 'true';
    }
    const path = variable.key.split('.');
    setAt(raw, path, value);
    sources.push({ path, source: variable.name, shown: [] });
  }

  if (options.overrides) deepMerge(raw, options.overrides as Tree);
  if (problems.length > 0) throw new Error(`invalid configuration: ${problems.join('; ')}`);

  const parsed = Config.safeParse(raw);
  if (!parsed.success) {
    const described = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String);
      const from = sources.filter((s) => s.path.every((segment, i) => path[i] === segment)).sort((a, b) => b.path.length - a.path.length)[0];
      if (from) return `${from.source}: ${formatIssue({ ...issue, path: issue.path.slice(from.path.length) })}`;
      // From the file or a default: the key as the file writes it (guardrail keys at the top).
      const shown = path[0] === 'guardrails' ? issue.path.slice(1) : issue.path;
      const variable = ENVIRONMENT_VARIABLES.find((candidate) => candidate.key === path.join('.'));
      return `${file}: ${formatIssue({ ...issue, path: shown })}${variable ? ` (or set ${variable.name})` : ''}`;
    });
    throw new Error(`invalid configuration: ${described.join('; ')}`);
  }
  const config = parsed.data;
  // Development bearer tokens exist for the embedded stack only: a Lambda function refuses to start with them.
  if (config.identity.authMode === 'dev-tokens' && env.AWS_LAMBDA_FUNCTION_NAME) {
    throw new Error(
      `invalid configuration: identity.authMode (MAESTRO_AUTH_MODE) is dev-tokens, which only the embedded stack may use; refused in Lambda (${env.AWS_LAMBDA_FUNCTION_NAME})`,
    );
  }
  config.approvals.publicUrl = config.approvals.publicUrl.replace(/\/$/, '');
  config.policy.dir = locate(config.policy.dir, env);
  for (const pack of config.packs) if (isPathModule(pack.module)) pack.module = resolve(dirname(file), pack.module);
  return deepFreeze(config);
}
