import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Endpoints } from '../../local/stack.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface ChildStack {
  child: ChildProcess;
  endpoints: Endpoints;
}

/**
 * Starts the embedded stack in a process of its own (so a test can SIGKILL it) and waits until it has
 * written `<dataDir>/endpoints.json` and printed that it serves. `children` collects the processes
 * for the test's clean-up.
 */
export async function spawnStack(options: {
  args: string[];
  env: NodeJS.ProcessEnv;
  dataDir: string;
  children: ChildProcess[];
  timeoutMs?: number;
}): Promise<ChildStack> {
  const endpointsFile = join(options.dataDir, 'endpoints.json');
  rmSync(endpointsFile, { force: true });
  const child = spawn(process.execPath, options.args, { cwd: ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  options.children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!existsSync(endpointsFile) || !output.includes('Ctrl-C to stop')) {
    if (child.exitCode !== null) throw new Error(`maestro exited ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`maestro did not come up: ${output}`);
    await sleep(50);
  }
  return { child, endpoints: JSON.parse(readFileSync(endpointsFile, 'utf8')) as Endpoints };
}
