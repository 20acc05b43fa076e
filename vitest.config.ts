import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'data/**'],
    // One Redis and one PostgreSQL server for the whole run; each test owns its names in them.
    globalSetup: ['test/support/global-setup.ts'],
    // Real servers and sockets: generous but finite.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only make the real servers contend.
    maxWorkers: 2,
  },
});
