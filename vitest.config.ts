import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One throwaway Postgres cluster for the run; suites get its URL through inject('pgUrl').
    // The portal's assets are built from source first (the portal serves only built files).
    globalSetup: ['test/support/postgres-global-setup.ts', 'test/support/portal-global-setup.ts'],
    pool: 'forks',
  },
});
