import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { ExecutorClass } from '../functions/core/runs/task-executor.ts';
import type { ConfigOverrides } from '../functions/handlers/shared/config.ts';
import type { ExecutorBundles } from './bundled-handlers.ts';
import { lambdaContext } from './lambda-context.ts';
import type { HostedFunction } from './lambda/lambda-context.ts';

/** An executor's time, as lib/run-workflow.ts gives its functions (an action's own budget is enforced in code, below this). */
const EXECUTOR_TIMEOUT_MS = 5 * 60_000;
const CLASSES: readonly ExecutorClass[] = ['read', 'write', 'internet'];

/**
 * The action executors of a cloud assembly, as the embedded stack on bundles runs them: each one's
 * bundle hosted in the Lambda stand-in under a function name, and the configuration that names those
 * functions (`workflows.taskExecutors`, `workflows.packExecutors`), so the run steps' bundles invoke
 * them through Lambda's Invoke exactly as in AWS (they carry no in-process executor).
 */
export function hostedExecutors(bundles: ExecutorBundles) {
  const functions = new Map<string, string>();
  const taskExecutors = Object.fromEntries(
    CLASSES.map((executorClass) => {
      const name = `maestro-execute-${executorClass}`;
      functions.set(name, bundles.builtin);
      return [executorClass, name];
    }),
  ) as Record<ExecutorClass, string>;
  const packExecutors: Record<string, Partial<Record<ExecutorClass, string>>> = {};
  for (const [pack, byClass] of bundles.packs) {
    packExecutors[pack] = {};
    for (const [executorClass, file] of byClass) {
      const name = `maestro-pack-${pack}-${executorClass}`;
      functions.set(name, file);
      packExecutors[pack][executorClass] = name;
    }
  }
  return {
    // A pack's executors by class as the synth made them (the configuration's schema checks read and write exist).
    workflows: { taskExecutors, ...(bundles.packs.size > 0 ? { packExecutors } : {}) } as ConfigOverrides['workflows'],
    /** Imports each bundle (after the environment holds the configuration it reads) and hosts it under its names. */
    async host(register: (name: string, run: HostedFunction) => void): Promise<void> {
      const loaded = new Map<string, (event: unknown, context: Context) => Promise<unknown>>();
      for (const file of new Set(functions.values())) {
        loaded.set(file, ((await import(pathToFileURL(file).href)) as { handler: (event: unknown, context: Context) => Promise<unknown> }).handler);
      }
      for (const [name, file] of functions) register(name, (event) => loaded.get(file)!(event, lambdaContext(name, EXECUTOR_TIMEOUT_MS)));
    },
  };
}
