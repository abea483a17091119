/**
 * `node bench/bundles.ts [cdk.out]` (the last step of `npm run bench`): every Lambda bundle of the
 * synthesized app, its size and its cold `import()` in a fresh Node process started with the function's
 * own `NODE_OPTIONS` (from the template), against a bare `node -e ''` measured the same way, round by round. Targets: < 1 MiB and < 150 ms over the bare start.
 * Without a cloud assembly at the default path it synthesizes one first (`npm run synth`), so that
 * `npm run bench` prints every row from one run; a path given that holds none is an error.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const ROUNDS = Number(process.env.BENCH_BUNDLE_ROUNDS ?? 7);
const SIZE_TARGET = 1024 * 1024;
const IMPORT_TARGET_MS = 150;
const cdkOut = resolve(process.argv[2] ?? 'cdk.out');
const templateFile = join(cdkOut, 'Maestro.template.json');
if (!existsSync(templateFile)) {
  if (process.argv[2]) {
    console.error(`bundles: no cloud assembly at ${cdkOut}`);
    process.exit(2);
  }
  console.log('bundles: no cloud assembly yet: npm run synth');
  execFileSync('npm', ['run', '-s', 'synth'], { stdio: 'inherit' });
}

interface Resource {
  Type: string;
  Metadata?: Record<string, string>;
  Properties?: { Environment?: { Variables?: Record<string, unknown> } };
}
const template = JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources: Record<string, Resource> };
/** One row per bundle (functions sharing an asset share its row), named by the handler file. */
const bundles = new Map<string, { entry: string; functions: string[]; nodeOptions: string }>();
for (const [id, resource] of Object.entries(template.Resources)) {
  const asset = resource.Metadata?.['aws:asset:path'];
  const entry = resource.Metadata?.['maestro:entry'];
  if (resource.Type !== 'AWS::Lambda::Function' || !asset || !entry) continue;
  // Imported with the function's own NODE_OPTIONS (what Lambda starts it with), none when it sets none.
  const nodeOptions = resource.Properties?.Environment?.Variables?.NODE_OPTIONS;
  const row = bundles.get(asset) ?? { entry, functions: [], nodeOptions: typeof nodeOptions === 'string' ? nodeOptions : '' };
  row.functions.push(id);
  bundles.set(asset, row);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Wall time of one fresh `node` process running `script` (the process start included, as for the baseline). */
function wall(script: string, cwd: string, nodeOptions = ''): number {
  const start = performance.now();
  execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
  });
  return performance.now() - start;
}

const rows: string[][] = [];
let failed = 0;
const baseline: number[] = [];
const samples = new Map<string, number[]>();
// The tracer is a file of its own beside the bundles that trace (the same build in each): not part of
// the cold import, but loaded at the first traced invocation, and Lambda traces by default.
const tracerFile = [...bundles.keys()].map((asset) => join(cdkOut, asset, 'tracer.mjs')).find((file) => existsSync(file));
const tracerSamples: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  baseline.push(wall('', cdkOut));
  if (tracerFile) tracerSamples.push(wall(`await import(${JSON.stringify(pathToFileURL(tracerFile).href)});`, cdkOut));
  for (const [asset, { nodeOptions }] of bundles) {
    const file = pathToFileURL(join(cdkOut, asset, 'index.mjs')).href;
    const list = samples.get(asset) ?? [];
    list.push(wall(`await import(${JSON.stringify(file)});`, join(cdkOut, asset), nodeOptions));
    samples.set(asset, list);
  }
}
const bare = median(baseline);
for (const [asset, { entry, functions }] of bundles) {
  const bytes = statSync(join(cdkOut, asset, 'index.mjs')).size;
  const importMs = median(samples.get(asset)!) - bare;
  const ok = bytes < SIZE_TARGET && importMs < IMPORT_TARGET_MS;
  if (!ok) failed += 1;
  rows.push([
    `${entry}${functions.length > 1 ? ` (${functions.length} functions)` : ''}`,
    `${(bytes / 1024 / 1024).toFixed(2)} MiB`,
    `${(bytes / SIZE_TARGET).toFixed(2)}`,
    `${importMs.toFixed(0)} ms`,
    `${(importMs / IMPORT_TARGET_MS).toFixed(2)}`,
    ok ? 'ok' : 'OVER',
  ]);
}
const header = [
  `bundle (cold import() in a fresh node, median of ${ROUNDS}, minus node -e '' = ${bare.toFixed(0)} ms)`,
  'size',
  '/ 1 MiB',
  'cold import',
  '/ 150 ms',
  '',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
console.log(`${bundles.size - failed} of ${bundles.size} bundle(s) within both targets (< 1 MiB, < 150 ms)`);
if (tracerFile) {
  console.log(
    `tracer.mjs beside the bundles that trace: ${(statSync(tracerFile).size / 1024).toFixed(0)} KiB, its import ${(median(tracerSamples) - bare).toFixed(0)} ms over node -e '' (paid at the first traced invocation, not in the cold import above)`,
  );
}
