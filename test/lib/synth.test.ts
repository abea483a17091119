import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

describe('npm run synth', () => {
  it('synthesizes offline with no credentials, bundling every handler with local esbuild', async () => {
    const out = mkdtempSync(join(tmpdir(), 'maestro-cdk-out-'));
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|CDK_DEFAULT_)/.test(name)));
    await promisify(execFile)(join(ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--output', out], { cwd: ROOT, env, timeout: 300_000 });
    const template = JSON.parse(readFileSync(join(out, 'Maestro.template.json'), 'utf8'));
    const functions = Object.values(template.Resources as Record<string, { Type: string }>).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(8);
    const bundles = readdirSync(out).filter((entry) => entry.startsWith('asset.') && existsSync(join(out, entry, 'index.mjs')));
    expect(bundles.length).toBeGreaterThanOrEqual(8);
  }, 300_000);
});
