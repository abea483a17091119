import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packs/*/test/**/*.test.ts'],
    // The bundle tests synthesize first: `npm run test:bundles` (vitest.bundles.config.ts) runs them.
    exclude: [...configDefaults.exclude, 'test/bundles/**'],
    globalSetup: ['test/support/dynamodb-local.global.ts'],
    pool: 'forks',
    // Two cores: one DynamoDB Local JVM plus two test files at a time keeps the machine responsive.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    teardownTimeout: 30_000,
    // Step failures are expected in failure-path tests; keep their WARN lines out of the report.
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
  },
});
