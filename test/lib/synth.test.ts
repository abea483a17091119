import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesizeShared } from '../support/synth-output.ts';

describe('npm run synth', () => {
  it('synthesizes offline with no credentials, bundling every handler with local esbuild', async () => {
    // Into the checkout's shared assembly, which `npm run test:bundles` then runs on if nothing changed (test/support/synth-output.ts).
    const out = await synthesizeShared();
    const template = JSON.parse(readFileSync(join(out, 'Maestro.template.json'), 'utf8'));
    const functions = Object.values(template.Resources as Record<string, { Type: string }>).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(8);
    const bundles = readdirSync(out).filter((entry) => entry.startsWith('asset.') && existsSync(join(out, entry, 'index.mjs')));
    expect(bundles.length).toBeGreaterThanOrEqual(8);
  }, 300_000);
});
