import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs one tool of `npm run lint` from the repository's own node_modules; resolves to its output, or fails the test with it. */
async function tool(bin: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(`${root}node_modules/.bin/${bin}`, args, { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    return stdout + stderr;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    expect.fail(`${bin} ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

// `npm test` is what CI runs, so the lint runs here: the same two commands as `npm run lint`.
// Generous timeouts: the suite runs beside DynamoDB Local on two shared cores, and tsc reads the whole tree.
describe('npm run lint', () => {
  it('type-checks the whole tree (tsc --noEmit)', { timeout: 180_000 }, async () => {
    await tool('tsc', ['--noEmit']);
  });

  it('finds nothing with Biome, lint and format, warnings included (biome check --error-on-warnings)', { timeout: 180_000 }, async () => {
    const output = await tool('biome', ['check', '--error-on-warnings']);
    expect(output).toMatch(/Checked \d+ files/);
  });
});
