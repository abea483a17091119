import { globSync } from 'node:fs';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The files that start an embedded stack. They run in the `embedded-stack` project: one after another in the
 * same worker process, so the stack's module graph (the AWS SDK clients, Cedar, the OpenID provider,
 * zod schemas, every handler) is loaded once per worker instead of once per file (docs/testing.md has
 * the numbers). Each file still starts its own stack with tables of its own; what a file changes
 * process-wide (environment variables, spies, vi.setConfig) is undone after it (test/support/file-state.setup.ts).
 */
const SHARED = [
  'test/e2e/**/*.test.ts',
  'test/adapters/task-executors.test.ts',
  'test/local/sandbox/*.test.ts',
  'test/cli/**/*.test.ts',
  'packs/*/test/**/*.test.ts',
];
/**
 * Files among those that need a fresh module graph: they set what modules read once at import
 * (Powertools' log level and metrics switch, the tracer's Lambda detection).
 */
const ISOLATED = ['test/e2e/observability.test.ts', 'test/e2e/observability-tracer.test.ts'];
const sharedFiles = globSync(SHARED, { cwd: import.meta.dirname }).filter((file) => !ISOLATED.includes(file));
// The bundle tests synthesize first: `npm run test:bundles` (vitest.bundles.config.ts) runs them.
const EXCLUDED = [...configDefaults.exclude, 'test/bundles/**'];

export default defineConfig({
  test: {
    // One DynamoDB Local for both projects (the set-up shares it between them).
    globalSetup: ['test/support/dynamodb-local.global.ts'],
    pool: 'forks',
    // Two cores: one DynamoDB Local JVM plus two test files at a time keeps the machine responsive.
    // Both projects draw from these two workers.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    teardownTimeout: 30_000,
    // Step failures are expected in failure-path tests; keep their WARN lines out of the report.
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    projects: [
      {
        extends: true,
        test: { name: 'embedded-stack', include: sharedFiles, exclude: EXCLUDED, isolate: false, setupFiles: ['test/support/file-state.setup.ts'] },
      },
      {
        extends: true,
        test: { name: 'isolated', include: ['test/**/*.test.ts', 'packs/*/test/**/*.test.ts'], exclude: [...EXCLUDED, ...sharedFiles] },
      },
    ],
  },
});
