/**
 * Runs inside the sandbox process: receives one call over IPC, imports the module, calls the export,
 * and sends back the result or the error (name, message, code). Nothing else runs here.
 */
interface SandboxCall {
  modulePath: string;
  exportName: string;
  method?: string;
  args: unknown[];
}

const reply = (message: unknown) =>
  new Promise<void>((resolve) => {
    process.send!(message, undefined, {}, () => resolve());
  });

process.once('message', async (call: SandboxCall) => {
  try {
    const module = (await import(call.modulePath)) as Record<string, unknown>;
    const target = module[call.exportName] as Record<string, unknown> | ((...args: unknown[]) => unknown);
    const fn = call.method ? (target as Record<string, (...args: unknown[]) => unknown>)[call.method].bind(target) : (target as (...args: unknown[]) => unknown);
    const result = await fn(...call.args);
    await reply({ ok: true, result });
  } catch (error) {
    const e = error as { name?: string; message?: string; code?: string; permission?: string; resource?: string; details?: unknown };
    await reply({ ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(error), code: e?.code, permission: e?.permission, resource: e?.resource, details: e?.details } });
  }
  process.disconnect();
});
