import { afterAll, vi } from 'vitest';

/**
 * Test files of the `embedded-stack` project (vitest.config.ts) run one after another in the same worker
 * process, so what a file changes process-wide must not reach the next one: its environment variables
 * (the MAESTRO_* settings a file gives its stack), its spies and its `vi.setConfig`. This set-up runs
 * before each file; its afterAll runs after the file's own.
 */
const environment = { ...process.env };

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!Object.hasOwn(environment, name)) delete process.env[name];
  for (const [name, value] of Object.entries(environment)) if (process.env[name] !== value) process.env[name] = value;
  vi.restoreAllMocks();
  vi.resetConfig();
});
