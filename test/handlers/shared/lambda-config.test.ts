import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configToEnvironment } from '../../../functions/core/config/environment-variables.ts';
import { configFileAsJson, loadConfig } from '../../../functions/handlers/shared/config.ts';
import { BAKED_CONFIG_FILE, loadLambdaConfig } from '../../../functions/handlers/shared/lambda-config.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

/** A bundle's folder as the synth leaves it: the configuration baked as JSON beside index.mjs. */
function bundleDir(yamlFile = join(ROOT, 'maestro.config.yaml')): string {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-lambda-config-'));
  writeFileSync(join(dir, BAKED_CONFIG_FILE), configFileAsJson(yamlFile));
  return dir;
}

describe('the configuration of a Lambda bundle (JSON, baked at synth)', () => {
  it('is the configuration the YAML file gives: same layers, same schema', () => {
    const env = { MAESTRO_STATE_TABLE: 'maestro-state', MAESTRO_POLICY_DIR: join(ROOT, 'policies') };
    const fromYaml = loadConfig({ ...env, MAESTRO_CONFIG_FILE: join(ROOT, 'maestro.config.yaml') });
    const dir = bundleDir();
    const fromJson = loadLambdaConfig({ ...env, LAMBDA_TASK_ROOT: dir, MAESTRO_CONFIG_FILE: BAKED_CONFIG_FILE });
    // Pack folders resolve from the file's directory: the baked file sits in the bundle's.
    const withoutPackPaths = (config: typeof fromYaml) => ({ ...config, packs: config.packs.map(({ module: _, ...pack }) => pack) });
    expect(withoutPackPaths(fromJson)).toEqual(withoutPackPaths(fromYaml));
  });

  it('takes the overrides the embedded stack writes (JSON), and a plain text value as a string', () => {
    const config = loadLambdaConfig({
      LAMBDA_TASK_ROOT: bundleDir(),
      MAESTRO_STATE_TABLE: 'maestro-state',
      MAESTRO_CONFIG__defaultEnvironment: 'prod',
      MAESTRO_CONFIG__killSwitch: '{"engaged":true}',
    });
    expect([config.guardrails.defaultEnvironment, config.guardrails.killSwitch.engaged]).toEqual(['prod', true]);
    const stack = loadConfig({ MAESTRO_CONFIG_FILE: join(ROOT, 'maestro.config.yaml'), MAESTRO_STATE_TABLE: 'maestro-state' });
    const again = loadLambdaConfig({ ...configToEnvironment(stack), LAMBDA_TASK_ROOT: mkdtempSync(join(tmpdir(), 'maestro-no-file-')) });
    expect(again.guardrails).toEqual(stack.guardrails);
  });

  it('refuses a bad value with the file and key named, as the YAML loader does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-lambda-config-'));
    const yaml = join(dir, 'maestro.config.yaml');
    writeFileSync(yaml, 'environments:\n  prod:\n    autonomyCeiling: high\n');
    writeFileSync(join(dir, BAKED_CONFIG_FILE), configFileAsJson(yaml));
    expect(() => loadLambdaConfig({ LAMBDA_TASK_ROOT: dir, MAESTRO_STATE_TABLE: 'maestro-state' })).toThrow(
      /maestro\.config\.json.*environments\.prod\.autonomyCeiling/,
    );
    expect(() => loadLambdaConfig({ LAMBDA_TASK_ROOT: dir, MAESTRO_CONFIG_FILE: 'maestro.config.yaml', MAESTRO_STATE_TABLE: 'maestro-state' })).toThrow(
      /cannot read the configuration file .*maestro\.config\.yaml \(JSON\)/,
    );
  });
});
