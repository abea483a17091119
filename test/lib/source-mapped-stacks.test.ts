import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAliases } from '../../lib/maestro-function.ts';
import { synthMaestro } from './template-support.ts';

const ROOT = join(import.meta.dirname, '../..');
const FIXTURE = 'test/fixtures/source-mapped/failing-handler.ts';
const THROW_LINE =
  readFileSync(join(ROOT, FIXTURE), 'utf8')
    .split('\n')
    .findIndex((line) => line.includes('throw new RangeError')) + 1;
let dir: string;

/** The fixture bundled with the synth's settings (minified, names kept, a map beside it, no sources in it). */
beforeAll(async () => {
  // Two levels below the repository, as the synth's assets are (cdk.out/asset.<hash>): sources read `../../<path>`.
  mkdirSync(join(ROOT, 'cdk.out'), { recursive: true });
  dir = mkdtempSync(join(ROOT, 'cdk.out', 'stacks-'));
  await build({
    entryPoints: [join(ROOT, FIXTURE)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    alias: Object.fromEntries(bundleAliases().map((alias) => alias.split('='))),
    outfile: join(dir, 'index.mjs'),
    logLevel: 'error',
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Imports the bundle in a fresh node without flags, optionally runs `between`, then prints the handler's error stack. */
function stackOf(between = ''): string {
  const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)});
${between}
try { await handler({ what: 'x' }); } catch (error) { console.log(error.stack); }`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' });
}

describe('stack traces of a bundle', () => {
  it('name the source file and line, with no --enable-source-maps', () => {
    const stack = stackOf();
    expect(stack).toContain('RangeError: refused: x');
    expect(stack).toMatch(new RegExp(`at refuse \\(test/fixtures/source-mapped/failing-handler\\.ts:${THROW_LINE}:\\d+\\)`));
    expect(stack).not.toMatch(/index\.mjs:\d+:\d+/);
  });

  it('read the map when a stack is first formatted, not when the bundle is imported', () => {
    // Moved away after the import, before any stack: the stack then names the bundle, so the import had not read it.
    const map = join(dir, 'index.mjs.map');
    const moved = `${map}.away`;
    try {
      const stack = stackOf(`(await import('node:fs')).renameSync(${JSON.stringify(map)}, ${JSON.stringify(moved)});`);
      expect(stack).toMatch(/index\.mjs:\d+:\d+/);
      expect(stack).not.toContain('failing-handler.ts');
    } finally {
      renameSync(moved, map);
    }
  });
});

describe('the synthesized functions', () => {
  it('start without --enable-source-maps (it parses the whole map at every cold start)', () => {
    const functions = Object.values(synthMaestro().template.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment?: { Variables?: Record<string, unknown> } };
    }[];
    expect(functions.length).toBeGreaterThan(5);
    for (const fn of functions) expect(String(fn.Properties.Environment?.Variables?.NODE_OPTIONS ?? '')).not.toContain('--enable-source-maps');
  });
});
