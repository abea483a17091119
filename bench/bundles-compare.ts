/**
 * `node bench/bundles-compare.ts <before cdk.out> <after cdk.out>`: the cold `import()` of each Lambda
 * bundle of two cloud assemblies side by side. Each round imports every bundle of both, in a fresh Node
 * process each time, the order of the two alternating from round to round. The times are medians over
 * `BENCH_BUNDLE_ROUNDS` rounds (default 9), minus a bare `node -e ''` measured in the same rounds, in
 * wall time and in CPU (user + system of the importing process). Under load, CPU moves far less than
 * wall time. Each import runs with its function's own NODE_OPTIONS. Bundles are matched by handler file (`maestro:entry`), and by pack for the packs'
 * executors. This is the before/after table of docs/performance.md; bench/bundles.ts gives the targets.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROUNDS = Number(process.env.BENCH_BUNDLE_ROUNDS ?? 9);
const [before, after] = process.argv.slice(2).map((path) => resolve(path));
if (!before || !after) {
  console.error('usage: node bench/bundles-compare.ts <before cdk.out> <after cdk.out>');
  process.exit(2);
}

interface Resource {
  Type: string;
  Metadata?: Record<string, string>;
  Properties?: { Environment?: { Variables?: Record<string, unknown> } };
}

/** Each bundle's folder and its function's NODE_OPTIONS, by its handler file; a pack's executors (which share that file) by pack. */
function bundlesOf(cdkOut: string): Map<string, { dir: string; nodeOptions: string }> {
  const template = JSON.parse(readFileSync(join(cdkOut, 'Maestro.template.json'), 'utf8')) as { Resources: Record<string, Resource> };
  const bundles = new Map<string, { dir: string; nodeOptions: string }>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const asset = resource.Metadata?.['aws:asset:path'];
    const entry = resource.Metadata?.['maestro:entry'];
    if (resource.Type !== 'AWS::Lambda::Function' || !asset || !entry) continue;
    const pack = /Pack([A-Z][a-z0-9]*)/.exec(id)?.[1];
    const nodeOptions = resource.Properties?.Environment?.Variables?.NODE_OPTIONS;
    bundles.set(pack ? `${entry} (pack ${pack})` : entry, { dir: join(cdkOut, asset), nodeOptions: typeof nodeOptions === 'string' ? nodeOptions : '' });
  }
  return bundles;
}

/** Wall and CPU milliseconds of one fresh `node` running `script` (the process start included, as for the baseline). */
function measure(script: string, cwd: string, nodeOptions = ''): { wall: number; cpu: number } {
  const start = performance.now();
  const output = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', `${script}\nconst u = process.cpuUsage(); console.log((u.user + u.system) / 1000);`],
    {
      cwd,
      stdio: ['ignore', 'pipe', 'inherit'],
      // As Lambda starts the function: with its own NODE_OPTIONS.
      env: { ...process.env, NODE_OPTIONS: nodeOptions },
    },
  );
  return { wall: performance.now() - start, cpu: Number(output.toString().trim()) };
}

const beforeBundles = bundlesOf(before);
const afterBundles = bundlesOf(after);
const names = [...beforeBundles.keys()].filter((name) => afterBundles.has(name));
const bare: { wall: number; cpu: number }[] = [];
const samples = new Map(names.map((name) => [name, { before: [] as { wall: number; cpu: number }[], after: [] as { wall: number; cpu: number }[] }]));
for (let round = 0; round < ROUNDS; round += 1) {
  bare.push(measure('', before));
  for (const name of names) {
    const sides = [
      ['before', beforeBundles.get(name)!],
      ['after', afterBundles.get(name)!],
    ] as const;
    for (const [side, { dir, nodeOptions }] of round % 2 === 0 ? sides : [...sides].reverse())
      samples.get(name)![side].push(measure("await import('./index.mjs');", dir, nodeOptions));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const bareWall = median(bare.map((sample) => sample.wall));
const bareCpu = median(bare.map((sample) => sample.cpu));
console.log(
  `cold import() in a fresh node, medians of ${ROUNDS} interleaved rounds minus node -e '' (wall ${bareWall.toFixed(0)} ms, CPU ${bareCpu.toFixed(0)} ms)`,
);
console.log('| bundle | wall before | wall after | after ÷ before | CPU before | CPU after | after ÷ before |');
console.log('|---|---|---|---|---|---|---|');
for (const name of names) {
  const { before: b, after: a } = samples.get(name)!;
  const wall = [median(b.map((s) => s.wall)) - bareWall, median(a.map((s) => s.wall)) - bareWall];
  const cpu = [median(b.map((s) => s.cpu)) - bareCpu, median(a.map((s) => s.cpu)) - bareCpu];
  console.log(
    `| ${name.replace('functions/handlers/', '')} | ${wall[0].toFixed(0)} | ${wall[1].toFixed(0)} | ${(wall[1] / wall[0]).toFixed(2)} | ${cpu[0].toFixed(0)} | ${cpu[1].toFixed(0)} | ${(cpu[1] / cpu[0]).toFixed(2)} |`,
  );
}
const missing = [...new Set([...beforeBundles.keys(), ...afterBundles.keys()])].filter((name) => !names.includes(name));
if (missing.length > 0) console.log(`in one assembly only: ${missing.join(', ')}`);
