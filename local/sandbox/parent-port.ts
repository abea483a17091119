import * as errors from '../../functions/core/errors.ts';
import { MaestroError } from '../../functions/core/errors.ts';

/** What crosses the IPC channel for a call to one of the parent's ports. */
export interface PortCall {
  type: 'port-call';
  id: number;
  port: string;
  method: string;
  args: unknown[];
}
export interface PortReply {
  type: 'port-reply';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string; field?: string; details?: Record<string, unknown> };
}

const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
let nextId = 0;
let listening = false;

/** A Maestro error keeps its class across the channel; anything else arrives as a plain Error with its name. */
export function rebuildError(error: { name: string; message: string; field?: string; details?: Record<string, unknown> }): Error {
  const known = Object.hasOwn(errors, error.name) ? (errors as Record<string, unknown>)[error.name] : undefined;
  if (typeof known === 'function' && known.prototype instanceof MaestroError) {
    return new (known as new (message: string, options?: errors.MaestroErrorOptions) => MaestroError)(error.message, {
      field: error.field,
      details: error.details,
    });
  }
  return Object.assign(new Error(error.message), { name: error.name });
}

/**
 * Inside the sandbox: an object whose methods run in the parent process (the runner's `ports`), so the
 * sandboxed code uses a control-plane service (the DR write guard, the restore gate) without holding
 * its endpoint, table name or credentials. Only the named methods exist; arguments and results are
 * structured clones.
 */
export function parentPort<T>(port: string, methods: readonly string[]): T {
  if (!listening) {
    listening = true;
    process.on('message', (message: PortReply) => {
      if (message?.type !== 'port-reply') return;
      const call = pending.get(message.id);
      if (!call) return;
      pending.delete(message.id);
      if (message.ok) call.resolve(message.result);
      else call.reject(rebuildError(message.error!));
    });
  }
  const proxy: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of methods) {
    proxy[method] = (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        process.send!({ type: 'port-call', id, port, method, args } satisfies PortCall);
      });
  }
  return proxy as T;
}
