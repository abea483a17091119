import { join, resolve } from 'node:path';
import { configToEnvironment } from '../../functions/core/config/environment-variables.ts';
import type { Config } from '../../functions/core/config/schema.ts';
import type { IsolatedApply } from '../../functions/core/runs/deps.ts';
import { runInSandbox } from './sandbox-runner.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** Powertools' own settings, passed on as they are. */
const PASSED_ON = /^POWERTOOLS_/;

/**
 * The embedded stack's action sandbox: the apply of every action that reaches the network runs in a
 * child process under Node's permission model (reads: the code, its libraries, the guardrails and
 * policies; writes: a scratch directory; no processes, workers or add-ons), with a heap cap and the
 * action's time budget. In AWS, the Lambda function is the sandbox.
 */
export function createIsolatedApply(config: Config): (input: IsolatedApply) => Promise<Record<string, unknown>> {
  // The child rebuilds the same configuration from its environment (configToEnvironment is the loader's inverse).
  const env: Record<string, string> = {
    ...Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => PASSED_ON.test(entry[0]) && entry[1] !== undefined)),
    ...configToEnvironment(config),
    ...(config.aws.region ? { AWS_REGION: config.aws.region } : {}),
    ...(config.aws.credentials ? { AWS_ACCESS_KEY_ID: config.aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: config.aws.credentials.secretAccessKey } : {}),
  };
  return (input) => isolatedApply(input, env, config.policy.dir);
}

function isolatedApply(input: IsolatedApply, env: Record<string, string>, policyDir: string): Promise<Record<string, unknown>> {
  return runInSandbox<Record<string, unknown>>({
    modulePath: join(ROOT, 'local/sandbox/apply-entry.ts'),
    exportName: 'applyInSandbox',
    args: [input],
    allowRead: [join(ROOT, 'functions'), join(ROOT, 'node_modules'), policyDir],
    memoryMb: 256,
    // The time budget itself is enforced by the caller (BudgetExceeded); this only stops a runaway process.
    timeMs: input.timeMs + 5_000,
    env,
  });
}
