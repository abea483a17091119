import { confineProcess, refusalCount } from './confine-process.ts';
import type { AllowedConnect } from './confine-process.ts';

/**
 * Runs inside the sandbox process (sandbox-worker.ts): on `start`, closes signals and the network to
 * all but the allowed destinations, once and for the process's whole life, and imports the module; then
 * answers each `call` (one at a time) with the export's result or the error (name, message, code), and
 * whether the confinement refused anything meanwhile. After each call the environment is put back as
 * it was given (what an action writes into process.env never reaches the next call).
 */
interface SandboxStart {
  type: 'start';
  modulePath: string;
  exportName: string;
  method?: string;
  allowConnect: AllowedConnect[];
}
interface SandboxCall {
  type: 'call';
  args: unknown[];
}

type Callable = (...args: unknown[]) => unknown;

const reply = (message: unknown) =>
  new Promise<void>((resolve) => {
    process.send!(message, undefined, {}, () => resolve());
  });

/** The environment as the parent gave it, put back after each call. */
const givenEnvironment = { ...process.env };
function restoreEnvironment() {
  for (const name of Object.keys(process.env)) if (!Object.hasOwn(givenEnvironment, name)) delete process.env[name];
  for (const [name, value] of Object.entries(givenEnvironment)) if (process.env[name] !== value) process.env[name] = value;
}

let ready: Promise<Callable> | undefined;

async function start(message: SandboxStart): Promise<Callable> {
  confineProcess(message.allowConnect);
  const module = (await import(message.modulePath)) as Record<string, unknown>;
  const target = module[message.exportName] as Record<string, unknown> | Callable;
  return message.method ? (target as Record<string, Callable>)[message.method].bind(target) : (target as Callable);
}

async function call(message: SandboxCall) {
  const refusedBefore = refusalCount();
  try {
    // A failed start (an import refused by the permission model) is the answer to every call.
    const fn = await ready!;
    const result = await fn(...message.args);
    restoreEnvironment();
    await reply({ type: 'result', ok: true, result, violated: refusalCount() > refusedBefore });
  } catch (error) {
    restoreEnvironment();
    const e = error as { name?: string; message?: string; code?: string; permission?: string; resource?: string; details?: unknown; field?: string };
    await reply({
      type: 'result',
      ok: false,
      violated: refusalCount() > refusedBefore,
      error: {
        name: e?.name ?? 'Error',
        message: e?.message ?? String(error),
        code: e?.code,
        permission: e?.permission,
        resource: e?.resource,
        details: e?.details,
        field: e?.field,
      },
    });
  }
}

process.on('message', (message: SandboxStart | SandboxCall) => {
  if (message?.type === 'start' && ready === undefined) {
    ready = start(message);
    // Answered by the first call; a rejection nobody awaits yet must not end the process.
    ready.catch(() => undefined);
  } else if (message?.type === 'call' && ready !== undefined) {
    void call(message);
  }
});
// The parent is gone (or let go of this worker): nothing is left to answer.
process.on('disconnect', () => process.exit(0));
