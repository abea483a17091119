import { readFileSync, readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { resolveGuardrails } from '../../core/config/guardrails.ts';
import type { Guardrails } from '../../core/config/guardrails.ts';
import { ValidationFailed } from '../../core/errors.ts';
import { PolicyEngine } from '../../core/policy/policy-engine.ts';

/** Files are found relative to the Lambda bundle in AWS, and to the working directory locally. */
const base = () => process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const locate = (path: string) => (isAbsolute(path) ? path : join(base(), path));

/**
 * Loads `maestro.config.yaml` (MAESTRO_CONFIG_FILE) with its MAESTRO_CONFIG__* overrides; a bad
 * file refuses to start, naming the key.
 */
export function loadGuardrails(env: NodeJS.ProcessEnv = process.env): Guardrails {
  const file = locate(env.MAESTRO_CONFIG_FILE ?? 'maestro.config.yaml');
  let content: unknown;
  try {
    content = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the guardrail configuration ${file}: ${(error as Error).message}`);
  }
  try {
    return resolveGuardrails(content, env, (text) => parseYaml(text));
  } catch (error) {
    if (error instanceof ValidationFailed) throw new Error(`invalid guardrail configuration ${file}: ${error.message}`);
    throw error;
  }
}

/** The Cedar schema (`*.cedarschema`) and every policy file (`*.cedar`) of MAESTRO_POLICY_DIR. */
export function loadPolicyEngine(env: NodeJS.ProcessEnv = process.env): PolicyEngine {
  const dir = locate(env.MAESTRO_POLICY_DIR ?? 'policies');
  const files = readdirSync(dir).sort();
  const schemaFile = files.find((file) => file.endsWith('.cedarschema'));
  if (!schemaFile) throw new Error(`no Cedar schema (*.cedarschema) in ${dir}`);
  const policies = files.filter((file) => file.endsWith('.cedar')).map((file) => readFileSync(join(dir, file), 'utf8'));
  return new PolicyEngine({ schema: readFileSync(join(dir, schemaFile), 'utf8'), policies: policies.join('\n') });
}
