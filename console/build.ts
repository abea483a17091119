import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the console into console/dist/: app.js (one ES module, minified, no eval), app.css and
 * index.html. The API serves that folder at /console (functions/handlers/api/console-assets.ts).
 */
const HERE = dirname(fileURLToPath(import.meta.url));
export const CONSOLE_DIST = join(HERE, 'dist');

/** Builds into a fresh folder, then renames each file into place: a reader (the API, a parallel test) never sees half a file. */
export async function buildConsole(): Promise<string> {
  mkdirSync(CONSOLE_DIST, { recursive: true });
  const staging = mkdtempSync(join(HERE, '.dist-'));
  try {
    await bundleInto(staging);
    for (const file of ['app.js', 'app.css', 'index.html']) renameSync(join(staging, file), join(CONSOLE_DIST, file));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return CONSOLE_DIST;
}

async function bundleInto(dir: string): Promise<void> {
  await build({
    entryPoints: [join(HERE, 'src/main.ts')],
    outfile: join(dir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(HERE, 'app.css'), join(dir, 'app.css'));
  copyFileSync(join(HERE, 'index.html'), join(dir, 'index.html'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`console built into ${await buildConsole()}`);
}
