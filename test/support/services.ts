import { inject } from 'vitest';
import { createPostgresDatabase, type PostgresDatabase } from '../../runtime/postgres-database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the one Redis that test/support/global-setup.ts started for this run. */
    redisUrl: string;
    /** Admin URL of the one PostgreSQL server started for this run; tests create their own databases on it. */
    postgresUrl: string;
  }
}

function provided(key: 'redisUrl' | 'postgresUrl'): string {
  const value = inject(key);
  if (typeof value !== 'string' || value === '') {
    throw new Error(
      `vitest did not provide "${key}": list test/support/global-setup.ts under test.globalSetup in the vitest config`,
    );
  }
  return value;
}

/**
 * URL of the Redis shared by the whole test run. Tests run in parallel on it,
 * so each must use its own key prefix or queue names (`test-${randomUUID()}`).
 */
export function testRedisUrl(): string {
  return provided('redisUrl');
}

/** Admin URL of the PostgreSQL shared by the whole test run. */
export function testPostgresUrl(): string {
  return provided('postgresUrl');
}

/**
 * Creates a fresh, uniquely named database on the shared PostgreSQL; call
 * `drop()` when done (it closes sessions still connected).
 */
export function createTestDatabase(): Promise<PostgresDatabase> {
  return createPostgresDatabase(testPostgresUrl());
}
