import { SandboxWorker } from './sandbox-worker.ts';
import type { SandboxCall, SandboxSpec } from './sandbox-worker.ts';

export type { AllowedConnect } from './confine-process.ts';
export type { SandboxSpec } from './sandbox-worker.ts';

export type SandboxCallOptions = SandboxSpec & SandboxCall;

/**
 * Runs one call in a fresh child Node process and ends it (a sandbox worker of one use, never reused):
 * `--permission` with file-system reads limited to the code (and the libraries it needs), writes limited
 * to a scratch directory, and no child processes, worker threads, native add-ons or WASI (none of the
 * `--allow-*` flags for them); an environment of only what the caller passes; signals to other
 * processes, listening and every connection but `allowConnect` refused in the child's runtime
 * (confine-process.ts: Node 24's permission model has no switch for them); a V8 heap cap; and the time
 * limit enforced by SIGKILL. A breach is a SandboxViolation naming what was breached (`fs.read`,
 * `child-process`, `memory`, `time`...). The calling process is never at risk: whatever the code does,
 * only the child dies. Warm, reused workers: warm-pool.ts.
 */
export async function runInSandbox<T = unknown>(options: SandboxCallOptions): Promise<T> {
  const { args, timeMs, signal, ...spec } = options;
  const worker = new SandboxWorker(spec);
  try {
    return await worker.call<T>({ args, timeMs, signal });
  } finally {
    await worker.kill();
  }
}
