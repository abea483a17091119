import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the console into console/dist/: app.js (one ES module, minified, no eval), app.css and
 * index.html. The API serves that folder at /console (functions/handlers/api/console-assets.ts).
 */
const HERE = dirname(fileURLToPath(import.meta.url));
export const CONSOLE_DIST = join(HERE, 'dist');

export async function buildConsole(): Promise<string> {
  mkdirSync(CONSOLE_DIST, { recursive: true });
  await build({
    entryPoints: [join(HERE, 'src/main.ts')],
    outfile: join(CONSOLE_DIST, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(HERE, 'app.css'), join(CONSOLE_DIST, 'app.css'));
  copyFileSync(join(HERE, 'index.html'), join(CONSOLE_DIST, 'index.html'));
  return CONSOLE_DIST;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`console built into ${await buildConsole()}`);
}
