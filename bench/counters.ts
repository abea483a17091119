/**
 * Bench-only request counters: an SDK middleware on the stack of every client of the given classes
 * (attached at its first `send`), counting each HTTP attempt once by command name. Requests are the
 * load-independent figure: the same run makes the same calls however busy the machine is.
 */
import type { MiddlewareStack } from '@smithy/types';

export interface RequestCounter {
  total(): number;
  snapshot(): Map<string, number>;
  /** Requests by command since `before`. */
  since(before: Map<string, number>): Record<string, number>;
}

export function countRequests(name: string, clientClasses: readonly unknown[]): RequestCounter {
  const requests = new Map<string, number>();
  const counted = new WeakSet<object>();
  const countOn = (stack: MiddlewareStack<any, any>) => {
    if (counted.has(stack)) return;
    counted.add(stack);
    // finalizeRequest, low priority: inside the retry middleware, so every HTTP attempt counts once.
    stack.add(
      (next, context) => async (args) => {
        const command = String((context as { commandName?: string }).commandName ?? 'unknown').replace(/Command$/, '');
        requests.set(command, (requests.get(command) ?? 0) + 1);
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: `bench${name}RequestCounter` },
    );
  };
  for (const clientClass of clientClasses as { prototype: { send: (...args: unknown[]) => unknown } }[]) {
    const original = clientClass.prototype.send;
    clientClass.prototype.send = function (this: { middlewareStack: MiddlewareStack<any, any> }, ...args: unknown[]) {
      countOn(this.middlewareStack);
      return original.apply(this, args);
    };
  }
  return {
    total: () => [...requests.values()].reduce((sum, n) => sum + n, 0),
    snapshot: () => new Map(requests),
    since: (before) => {
      const out: Record<string, number> = {};
      for (const [command, n] of requests) if (n - (before.get(command) ?? 0) > 0) out[command] = n - (before.get(command) ?? 0);
      return out;
    },
  };
}
