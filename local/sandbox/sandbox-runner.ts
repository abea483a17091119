import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as errors from '../../functions/core/errors.ts';
import { ActionFailed, MaestroError, SandboxViolation } from '../../functions/core/errors.ts';
import type { AllowedConnect } from './confine-process.ts';

export type { AllowedConnect } from './confine-process.ts';

const ENTRY = resolve(import.meta.dirname, 'sandbox-entry.ts');
/** What the entry imports before the sandboxed module: the confinement of signals and the network. */
const CONFINE = resolve(import.meta.dirname, 'confine-process.ts');
const ROOT = resolve(import.meta.dirname, '../..');

export interface SandboxCallOptions {
  /** The module to import in the sandbox (absolute path) and the export to call. */
  modulePath: string;
  exportName: string;
  /** Call `export[method](...args)` instead of `export(...args)`. */
  method?: string;
  /** JSON-like arguments (structured clone over IPC). */
  args: unknown[];
  /** Directories or files the code may read, besides its own module's directory. @default [<repo>/functions, <repo>/node_modules] */
  allowRead?: string[];
  /** Where the code may write (and read back); created, and removed afterwards when the runner made it. @default a fresh temp dir */
  scratchDir?: string;
  /** V8 old-space cap of the process. @default 128 */
  memoryMb?: number;
  /** Wall-clock limit; the process is killed when it passes. */
  timeMs: number;
  /** The process's whole environment besides NODE_ENV and MAESTRO_SANDBOX_SCRATCH: nothing of the caller's is inherited. @default {} */
  env?: Record<string, string>;
  /** The TCP destinations the code may connect to; every other connection, listen, UDP socket and signal to another process is refused. @default [] */
  allowConnect?: readonly AllowedConnect[];
  /** Aborting kills the process and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Runs one call in a child Node process under Node's permission model: `--permission` with file-system
 * reads limited to the code (and the libraries it needs), writes limited to a scratch directory, and
 * no child processes, worker threads, native add-ons or WASI (none of the `--allow-*` flags for them);
 * an environment of only what the caller passes; signals to other processes, listening and every
 * connection but `allowConnect` refused in the child's runtime (confine-process.ts: Node 24's
 * permission model has no switch for them); a V8 heap cap; and the time limit enforced by SIGKILL. A breach is a SandboxViolation naming what
 * was breached (`fs.read`, `child-process`, `memory`, `time`...). The calling process is never at risk:
 * whatever the code does, only the child dies.
 */
export async function runInSandbox<T = unknown>(options: SandboxCallOptions): Promise<T> {
  const ownScratch = options.scratchDir === undefined;
  const scratchDir = options.scratchDir ?? mkdtempSync(join(tmpdir(), 'maestro-sandbox-'));
  mkdirSync(scratchDir, { recursive: true });
  const reads = [dirname(options.modulePath), ENTRY, CONFINE, scratchDir, ...(options.allowRead ?? [join(ROOT, 'functions'), join(ROOT, 'node_modules')])];
  const memoryMb = options.memoryMb ?? 128;
  const execArgv = [
    '--permission',
    ...reads.map((path) => `--allow-fs-read=${path}`),
    `--allow-fs-write=${scratchDir}`,
    `--max-old-space-size=${memoryMb}`,
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
  ];
  try {
    return await new Promise<T>((resolvePromise, reject) => {
      let settled = false;
      let stderr = '';
      let timedOut = false;
      const child = fork(ENTRY, [], {
        execArgv,
        cwd: scratchDir,
        env: { NODE_ENV: 'production', MAESTRO_SANDBOX_SCRATCH: scratchDir, ...options.env },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeMs);
      const onAbort = () => {
        child.kill('SIGKILL');
        settle(() => reject(options.signal!.reason));
      };
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      child.stderr!.on('data', (chunk: Buffer) => {
        if (stderr.length < 16_384) stderr += chunk.toString('utf8');
      });
      child.on('message', (message: { type: 'result'; ok: boolean; result?: T; error?: SandboxedError }) => {
        settle(() => (message.ok ? resolvePromise(message.result as T) : reject(fromSandboxedError(message.error!))));
      });
      child.on('error', (error) => settle(() => reject(new ActionFailed(`the sandbox could not start: ${error.message}`, { cause: error }))));
      child.on('exit', (code, signal) => {
        settle(() => {
          if (timedOut) {
            reject(violation('time', `the action ran past its ${options.timeMs} ms and was killed`, { limitMs: options.timeMs }));
          } else if (/heap out of memory|Reached heap limit|Allocation failed/i.test(stderr) || signal === 'SIGABRT' || code === 134) {
            reject(violation('memory', `the action ran out of its ${memoryMb} MB of memory and was stopped`, { limitMb: memoryMb }));
          } else {
            reject(violation('crash', `the sandbox process ended without an answer (exit ${code ?? signal})`, { stderr: stderr.slice(0, 500) }));
          }
        });
      });
      child.send({
        type: 'call',
        modulePath: options.modulePath,
        exportName: options.exportName,
        method: options.method,
        args: options.args,
        allowConnect: options.allowConnect ?? [],
      });
    });
  } finally {
    if (ownScratch) rmSync(scratchDir, { recursive: true, force: true });
  }
}

interface SandboxedError {
  name: string;
  message: string;
  code?: string;
  permission?: string;
  resource?: string;
  details?: Record<string, unknown>;
}

function violation(breach: string, message: string, details: Record<string, unknown> = {}) {
  return new SandboxViolation(`sandbox violation (${breach}): ${message}`, { details: { breach, ...details } });
}

/** Turns what the sandbox sent back into an error: a permission breach is a SandboxViolation; a Maestro error keeps its class. */
function fromSandboxedError(error: SandboxedError): Error {
  if (error.code === 'ERR_ACCESS_DENIED') {
    const breach = permissionBreach(error.permission);
    return violation(breach, `the action tried ${describeBreach(breach)}${error.resource ? ` (${error.resource})` : ''}`, {
      permission: error.permission,
      resource: error.resource,
    });
  }
  if (error.code === 'ERR_DLOPEN_FAILED' || /addons? (are|is) not allowed|--allow-addons/i.test(error.message))
    return violation('addon', 'the action tried to load a native add-on');
  const known = (errors as Record<string, unknown>)[error.name];
  if (typeof known === 'function' && known.prototype instanceof MaestroError) {
    return new (known as new (message: string, options?: errors.MaestroErrorOptions) => MaestroError)(error.message, { details: error.details });
  }
  return new ActionFailed(`${error.name}: ${error.message}`);
}

function permissionBreach(permission: string | undefined): string {
  switch (permission) {
    case 'FileSystemRead':
      return 'fs.read';
    case 'FileSystemWrite':
      return 'fs.write';
    case 'ChildProcess':
      return 'child-process';
    case 'WorkerThreads':
      return 'worker';
    case 'WASI':
      return 'wasi';
    case 'Inspector':
      return 'inspector';
    case 'Signal':
      return 'signal';
    case 'Net':
      return 'net';
    default:
      return permission ? permission.toLowerCase() : 'permission';
  }
}

function describeBreach(breach: string): string {
  return (
    (
      {
        'fs.read': 'to read outside its code',
        'fs.write': 'to write outside its scratch directory',
        'child-process': 'to start a process',
        worker: 'to start a worker thread',
        signal: 'to signal another process',
        net: 'to open a connection it was not given',
      } as Record<string, string>
    )[breach] ?? `something the sandbox does not allow (${breach})`
  );
}
