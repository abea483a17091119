import { defineConfig } from 'vitest/config';

/** `npm run test:bundles`: synthesize once, then run the embedded stack on the bundles in cdk.out. */
export default defineConfig({
  test: {
    include: ['test/bundles/**/*.test.ts'],
    globalSetup: ['test/bundles/support/bundles.global.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 150_000,
    hookTimeout: 200_000,
    teardownTimeout: 30_000,
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
  },
});
