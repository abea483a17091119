import { join, resolve } from 'node:path';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';
import { runInSandbox } from './sandbox-runner.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The configuration the sandboxed apply builds its adapters from: endpoints, credentials, Maestro settings. */
const PASSED_ON = /^(AWS_|MAESTRO_|POWERTOOLS_)/;

/**
 * The embedded stack's action sandbox: the apply of every action that reaches the network runs in a
 * child process under Node's permission model (reads: the code, its libraries, the guardrails and
 * policies; writes: a scratch directory; no processes, workers or add-ons), with a heap cap and the
 * action's time budget. In AWS, the Lambda function is the sandbox.
 */
export function isolatedApply(input: IsolatedApply): Promise<Record<string, unknown>> {
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => PASSED_ON.test(entry[0]) && entry[1] !== undefined));
  return runInSandbox<Record<string, unknown>>({
    modulePath: join(ROOT, 'local/sandbox/apply-entry.ts'),
    exportName: 'applyInSandbox',
    args: [input],
    allowRead: [join(ROOT, 'functions'), join(ROOT, 'node_modules'), env.MAESTRO_POLICY_DIR ?? join(ROOT, 'policies'), env.MAESTRO_CONFIG_FILE ?? join(ROOT, 'maestro.config.yaml')],
    memoryMb: 256,
    // The time budget itself is enforced by the caller (BudgetExceeded); this only stops a runaway process.
    timeMs: input.timeMs + 5_000,
    env,
  });
}
