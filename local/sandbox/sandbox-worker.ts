import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as errors from '../../functions/core/errors.ts';
import { ActionFailed, MaestroError, SandboxViolation } from '../../functions/core/errors.ts';
import type { AllowedConnect } from './confine-process.ts';

const ENTRY = resolve(import.meta.dirname, 'sandbox-entry.ts');
/** What the entry imports before the sandboxed module: the confinement of signals and the network. */
const CONFINE = resolve(import.meta.dirname, 'confine-process.ts');
const ROOT = resolve(import.meta.dirname, '../..');

/** What a sandbox process is started with: fixed for its whole life, whatever it is asked to run. */
export interface SandboxSpec {
  /** The module to import in the sandbox (absolute path) and the export to call. */
  modulePath: string;
  exportName: string;
  /** Call `export[method](...args)` instead of `export(...args)`. */
  method?: string;
  /** Directories or files the code may read, besides its own module's directory. @default [<repo>/functions, <repo>/node_modules] */
  allowRead?: string[];
  /** Where the code may write (and read back); created, and removed at exit when the worker made it. @default a fresh temp dir */
  scratchDir?: string;
  /** V8 old-space cap of the process. @default 128 */
  memoryMb?: number;
  /** The process's whole environment besides NODE_ENV and MAESTRO_SANDBOX_SCRATCH: nothing of the caller's is inherited. @default {} */
  env?: Record<string, string>;
  /** The TCP destinations the code may connect to; every other connection, listen, UDP socket and signal to another process is refused. @default [] */
  allowConnect?: readonly AllowedConnect[];
}

export interface SandboxCall {
  /** JSON-like arguments (structured clone over IPC). */
  args: unknown[];
  /** Wall-clock limit of this call (the first call's includes the process start); the process is killed when it passes. */
  timeMs: number;
  /** Aborting kills the process and rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
  timeMs: number;
  timedOut: boolean;
  signal?: AbortSignal;
  onAbort(): void;
}

interface SandboxReply {
  type: 'result';
  ok: boolean;
  result?: unknown;
  error?: SandboxedError;
  /** The confinement refused something during the call, even if the code caught the refusal. */
  violated?: boolean;
}

/**
 * One sandbox process, started once under Node's permission model and confined once (signals, network:
 * confine-process.ts) before it imports its module, then answering calls one at a time: `--permission`
 * with reads limited to the code (and the libraries it needs), writes limited to a scratch directory
 * (emptied after every call), no child processes, worker threads, native add-ons or WASI; an
 * environment of only what the spec grants (restored after every call); a V8 heap cap; each call's time
 * limit enforced by SIGKILL. A breach is a SandboxViolation naming what was breached (`fs.read`,
 * `child-process`, `memory`, `time`...) and leaves the worker `tainted`: it must take no other call.
 */
export class SandboxWorker {
  readonly pid: number | undefined;
  /** Calls answered or failed so far. */
  uses = 0;
  /** It broke a rule, ran past its time, crashed or was killed: it must not take another call. */
  tainted = false;
  /** Set when the process has exited. */
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly scratchDir: string;
  private readonly ownScratch: boolean;
  private readonly memoryMb: number;
  private stderr = '';
  private pending: Pending | undefined;
  private alive = true;
  private markExited!: () => void;

  constructor(spec: SandboxSpec) {
    this.ownScratch = spec.scratchDir === undefined;
    this.scratchDir = spec.scratchDir ?? mkdtempSync(join(tmpdir(), 'maestro-sandbox-'));
    mkdirSync(this.scratchDir, { recursive: true });
    const reads = [dirname(spec.modulePath), ENTRY, CONFINE, this.scratchDir, ...(spec.allowRead ?? [join(ROOT, 'functions'), join(ROOT, 'node_modules')])];
    this.memoryMb = spec.memoryMb ?? 128;
    this.child = fork(ENTRY, [], {
      execArgv: [
        '--permission',
        ...reads.map((path) => `--allow-fs-read=${path}`),
        `--allow-fs-write=${this.scratchDir}`,
        `--max-old-space-size=${this.memoryMb}`,
        '--disable-warning=ExperimentalWarning',
        '--disable-warning=SecurityWarning',
      ],
      cwd: this.scratchDir,
      env: { NODE_ENV: 'production', MAESTRO_SANDBOX_SCRATCH: this.scratchDir, ...spec.env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    this.pid = this.child.pid;
    this.exited = new Promise((done) => {
      this.markExited = done;
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      // The tail is what tells an out-of-memory end from a crash; the process may live for many calls.
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-16_384);
    });
    this.child.on('message', (message: SandboxReply) => this.answered(message));
    this.child.on('error', (error) => {
      this.tainted = true;
      this.settle((pending) => pending.reject(new ActionFailed(`the sandbox could not start: ${error.message}`, { cause: error })));
      // A process that never started sends no exit event.
      if (this.child.pid === undefined) this.ended();
    });
    this.child.on('exit', (code, signal) => {
      this.settle((pending) => pending.reject(this.exitError(pending, code, signal)));
      this.ended();
    });
    // Confined once, for its whole life: the entry closes signals and the network to all but these
    // destinations, then imports the module (the import runs while the first call waits).
    this.child.send({ type: 'start', modulePath: spec.modulePath, exportName: spec.exportName, method: spec.method, allowConnect: spec.allowConnect ?? [] });
    this.idle();
  }

  /** Whether it can take a call now. */
  get usable(): boolean {
    return this.alive && !this.tainted && this.pending === undefined;
  }

  /** Runs one call; a worker takes one call at a time. */
  call<T = unknown>(call: SandboxCall): Promise<T> {
    if (!this.usable) return Promise.reject(new ActionFailed('the sandbox worker is busy or retired'));
    this.uses += 1;
    this.busy();
    return new Promise<T>((resolvePromise, reject) => {
      const pending: Pending = {
        resolve: resolvePromise as (value: unknown) => void,
        reject,
        timeMs: call.timeMs,
        timedOut: false,
        signal: call.signal,
        timer: setTimeout(() => {
          pending.timedOut = true;
          this.tainted = true;
          this.child.kill('SIGKILL');
        }, call.timeMs),
        onAbort: () => {
          this.tainted = true;
          this.child.kill('SIGKILL');
          this.settle((aborted) => aborted.reject(call.signal!.reason));
        },
      };
      this.pending = pending;
      if (call.signal?.aborted) return pending.onAbort();
      call.signal?.addEventListener('abort', pending.onAbort, { once: true });
      this.child.send({ type: 'call', args: call.args });
    });
  }

  /**
   * Ends the process (SIGKILL: it holds nothing worth a graceful end) and resolves once it has exited;
   * a call in flight is refused with `reason` (by default, as a crash).
   */
  async kill(reason?: Error): Promise<void> {
    this.tainted = true;
    if (reason) this.settle((pending) => pending.reject(reason));
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  private answered(message: SandboxReply) {
    if (message?.type !== 'result' || this.pending === undefined) return;
    const error = message.ok ? undefined : fromSandboxedError(message.error!);
    if (message.violated || error instanceof SandboxViolation) this.tainted = true;
    if (!this.tainted) this.wipeScratch();
    this.settle((pending) => (error ? pending.reject(error) : pending.resolve(message.result)));
    if (!this.tainted) this.idle();
  }

  private ended() {
    if (!this.alive) return;
    this.alive = false;
    this.tainted = true;
    if (this.ownScratch) rmSync(this.scratchDir, { recursive: true, force: true });
    this.markExited();
  }

  private settle(outcome: (pending: Pending) => void) {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.signal?.removeEventListener('abort', pending.onAbort);
    outcome(pending);
  }

  private exitError(pending: Pending, code: number | null, signal: NodeJS.Signals | null): Error {
    if (pending.timedOut) return violation('time', `the action ran past its ${pending.timeMs} ms and was killed`, { limitMs: pending.timeMs });
    if (/heap out of memory|Reached heap limit|Allocation failed/i.test(this.stderr) || signal === 'SIGABRT' || code === 134)
      return violation('memory', `the action ran out of its ${this.memoryMb} MB of memory and was stopped`, { limitMb: this.memoryMb });
    return violation('crash', `the sandbox process ended without an answer (exit ${code ?? signal})`, { stderr: this.stderr.slice(-500) });
  }

  /** What one call wrote stays with that call: the next starts from an empty scratch directory. */
  private wipeScratch() {
    try {
      for (const entry of readdirSync(this.scratchDir)) rmSync(join(this.scratchDir, entry), { recursive: true, force: true });
    } catch {
      this.tainted = true;
    }
  }

  /** An idle worker does not keep the calling process alive (its owner still ends it on close). */
  private idle() {
    this.child.unref();
    this.child.channel?.unref();
    (this.child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private busy() {
    this.child.ref();
    this.child.channel?.ref();
    (this.child.stderr as unknown as { ref?: () => void } | null)?.ref?.();
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
  const known = Object.hasOwn(errors, error.name) ? (errors as Record<string, unknown>)[error.name] : undefined;
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

const BREACHES = new Map<string, string>([
  ['fs.read', 'to read outside its code'],
  ['fs.write', 'to write outside its scratch directory'],
  ['child-process', 'to start a process'],
  ['worker', 'to start a worker thread'],
  ['signal', 'to signal another process'],
  ['net', 'to open a connection it was not given'],
]);

function describeBreach(breach: string): string {
  return BREACHES.get(breach) ?? `something the sandbox does not allow (${breach})`;
}
