import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * One cloud assembly per checkout, outside the repository (so no node_modules up the tree can stand
 * in for a file an asset lacks, as in Lambda): test/lib/synth.test.ts synthesizes into it, and
 * `npm run test:bundles` runs on it when the inputs have not changed since, instead of synthesizing
 * the same app again.
 */
const SHARED = join(tmpdir(), `maestro-synth-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`);
export const SHARED_ASSEMBLY = join(SHARED, 'cdk.out');
const DIGEST_FILE = join(SHARED, 'inputs.sha256');

/** Runs `cdk synth` as `npm run synth` does: offline, no credentials, the pinned Node 24 of node_modules/.bin, local esbuild. */
export async function synthesize(outDir: string): Promise<void> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|CDK_DEFAULT_)/.test(name)));
  env.PATH = `${join(ROOT, 'node_modules/.bin')}${delimiter}${env.PATH ?? ''}`;
  await promisify(execFile)(join(ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--output', outDir], { cwd: ROOT, env, timeout: 300_000 });
}

/**
 * A digest of what a synthesis reads: every file git tracks or would track (test/, docs/, bench/ and
 * Markdown aside), the built console (gitignored, copied into the API's bundle) and the Node version.
 * Undefined outside a git checkout (then nothing is reused).
 */
export function synthInputsDigest(): string | undefined {
  let listed: string;
  try {
    listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch {
    return undefined;
  }
  const files = listed
    .split('\0')
    .filter((file) => file && !/^(test|docs|bench)\//.test(file) && !file.endsWith('.md'))
    .concat(walk('console/dist'))
    .sort();
  const hash = createHash('sha256').update(`${process.version}\n`);
  for (const file of files) {
    const path = join(ROOT, file);
    if (!existsSync(path) || !statSync(path).isFile()) continue;
    hash.update(`${file}\0`).update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

function walk(dir: string): string[] {
  const path = join(ROOT, dir);
  if (!existsSync(path)) return [];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : [],
  );
}

/** Synthesizes into the shared assembly, recording the inputs' digest once it is complete. */
export async function synthesizeShared(): Promise<string> {
  const digest = synthInputsDigest();
  rmSync(SHARED, { recursive: true, force: true });
  mkdirSync(SHARED, { recursive: true });
  await synthesize(SHARED_ASSEMBLY);
  if (digest) writeFileSync(DIGEST_FILE, digest);
  return SHARED_ASSEMBLY;
}

/** The shared assembly, when it was synthesized completely from the inputs as they are now. */
export function freshSharedAssembly(): string | undefined {
  if (!existsSync(DIGEST_FILE) || !existsSync(join(SHARED_ASSEMBLY, 'manifest.json'))) return undefined;
  const digest = synthInputsDigest();
  return digest !== undefined && readFileSync(DIGEST_FILE, 'utf8') === digest ? SHARED_ASSEMBLY : undefined;
}
