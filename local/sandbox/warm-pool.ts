import { ActionFailed } from '../../functions/core/errors.ts';
import { SandboxWorker } from './sandbox-worker.ts';
import type { SandboxCall, SandboxSpec } from './sandbox-worker.ts';

/** How a pool keeps its workers (the configuration's `sandbox` section). */
export interface WarmPoolSettings {
  /** Workers kept for one key at most; calls beyond wait for one to be free. */
  readonly maxWorkers: number;
  /** Calls one worker answers before it is retired and replaced by a fresh one. */
  readonly maxUsesPerWorker: number;
  /** How long an idle worker is kept before it is ended. */
  readonly idleMs: number;
}

interface Waiter {
  resolve(worker: SandboxWorker): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  onAbort(): void;
}

/**
 * Warm sandbox workers of one kind (one spec: the same module, environment, allowed destinations and
 * caps), as Lambda keeps execution environments of one function: at most `maxWorkers`, each answering
 * one call at a time, started on demand (or by `prewarm`), ended after `idleMs` idle. A worker is
 * retired after `maxUsesPerWorker` calls (its replacement is started at once), and at once after any
 * violation (a permission error or a refusal of the confinement, even one the code caught), a timeout
 * (killed), a crash or running out of memory; the call that broke it gets the SandboxViolation, the
 * next call a fresh process.
 */
export class WarmPool {
  private readonly workers = new Set<SandboxWorker>();
  private readonly idleTimers = new Map<SandboxWorker, NodeJS.Timeout>();
  private readonly waiting: Waiter[] = [];
  private closed = false;
  private readonly spec: SandboxSpec;
  private readonly settings: WarmPoolSettings;

  constructor(spec: SandboxSpec, settings: WarmPoolSettings) {
    this.spec = spec;
    this.settings = settings;
    if (!(settings.maxWorkers >= 1 && settings.maxUsesPerWorker >= 1)) throw new RangeError('a warm pool needs maxWorkers and maxUsesPerWorker of at least 1');
  }

  /** The pids of the live workers (tests, diagnostics). */
  get pids(): number[] {
    return [...this.workers].map((worker) => worker.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Starts one worker now, if there is room, so the first call finds the module already imported. */
  prewarm(): void {
    if (!this.closed && this.workers.size < this.settings.maxWorkers) this.parkIdle(this.start());
  }

  async call<T = unknown>(call: SandboxCall): Promise<T> {
    const worker = await this.acquire(call.signal);
    try {
      return await worker.call<T>(call);
    } finally {
      this.release(worker);
    }
  }

  /** Ends every worker and refuses waiting and later calls; resolves once every process has exited. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(closedError());
    }
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    await Promise.all([...this.workers].map((worker) => worker.kill(closedError())));
    this.workers.clear();
  }

  private acquire(signal?: AbortSignal): Promise<SandboxWorker> {
    if (this.closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    for (const worker of this.workers) {
      if (worker.usable && this.idleTimers.has(worker)) {
        clearTimeout(this.idleTimers.get(worker));
        this.idleTimers.delete(worker);
        return Promise.resolve(worker);
      }
    }
    if (this.workers.size < this.settings.maxWorkers) return Promise.resolve(this.start());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(worker: SandboxWorker) {
    const spent = !worker.tainted && worker.uses >= this.settings.maxUsesPerWorker;
    if (worker.tainted || spent) this.retire(worker);
    if (this.closed) return;
    const waiter = this.waiting.shift();
    if (waiter) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.workers.has(worker) ? worker : this.start());
    } else if (this.workers.has(worker)) {
      this.parkIdle(worker);
    } else if (spent) {
      // A worker that served its uses is replaced now, so the next call does not wait for a process to start.
      this.prewarm();
    }
  }

  private start(): SandboxWorker {
    const worker = new SandboxWorker(this.spec);
    this.workers.add(worker);
    // A worker that dies while idle (or is killed) leaves the pool by itself.
    void worker.exited.then(() => this.forget(worker));
    return worker;
  }

  private parkIdle(worker: SandboxWorker) {
    const timer = setTimeout(() => this.retire(worker), this.settings.idleMs);
    timer.unref();
    this.idleTimers.set(worker, timer);
  }

  private retire(worker: SandboxWorker) {
    this.forget(worker);
    void worker.kill();
  }

  private forget(worker: SandboxWorker) {
    clearTimeout(this.idleTimers.get(worker));
    this.idleTimers.delete(worker);
    this.workers.delete(worker);
  }
}

/**
 * One warm pool per key, never shared between keys: for actions, the key is the action's name, since
 * each action's environment and allowed destinations differ (isolated-apply.ts).
 */
export class WarmPools {
  private readonly pools = new Map<string, WarmPool>();
  private closed = false;
  private readonly settings: WarmPoolSettings;
  private readonly specOf: (key: string) => SandboxSpec;

  constructor(settings: WarmPoolSettings, specOf: (key: string) => SandboxSpec) {
    this.settings = settings;
    this.specOf = specOf;
  }

  /** The pool of `key`, started on first use. */
  pool(key: string): WarmPool {
    if (this.closed) throw closedError();
    let pool = this.pools.get(key);
    if (!pool) this.pools.set(key, (pool = new WarmPool(this.specOf(key), this.settings)));
    return pool;
  }

  call<T = unknown>(key: string, call: SandboxCall): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return this.pool(key).call<T>(call);
  }

  /** Ends every pool's workers; resolves once every process has exited. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}

const closedError = () => new ActionFailed('the sandbox pool is shut down (the stack is stopping)');
