import { confineProcess } from './confine-process.ts';
import type { AllowedConnect } from './confine-process.ts';

/**
 * Runs inside the sandbox process: receives one call over IPC, closes signals and the network to all
 * but the call's allowed destinations, imports the module, calls the export, and sends back the result
 * or the error (name, message, code).
 */
interface SandboxCall {
  type: 'call';
  modulePath: string;
  exportName: string;
  method?: string;
  args: unknown[];
  allowConnect: AllowedConnect[];
}

const reply = (message: unknown) =>
  new Promise<void>((resolve) => {
    process.send!(message, undefined, {}, () => resolve());
  });

let started = false;
process.on('message', async (call: SandboxCall) => {
  if (call?.type !== 'call' || started) return;
  started = true;
  try {
    confineProcess(call.allowConnect);
    const module = (await import(call.modulePath)) as Record<string, unknown>;
    const target = module[call.exportName] as Record<string, unknown> | ((...args: unknown[]) => unknown);
    const fn = call.method
      ? (target as Record<string, (...args: unknown[]) => unknown>)[call.method].bind(target)
      : (target as (...args: unknown[]) => unknown);
    const result = await fn(...call.args);
    await reply({ type: 'result', ok: true, result });
  } catch (error) {
    const e = error as { name?: string; message?: string; code?: string; permission?: string; resource?: string; details?: unknown; field?: string };
    await reply({
      type: 'result',
      ok: false,
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
  process.disconnect();
});
