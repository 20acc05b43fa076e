import type { Database } from '../../storage/database.js';
import { createPgDatabase } from '../../storage/pg-database.js';
import { createPgliteDatabase } from '../../storage/pglite-database.js';

/**
 * The database modes the storage contract suites run against (DESIGN.md, "One stack,
 * three database modes"). Kept free of vitest so each `*-contract.test.ts` file
 * registers its own hooks; the expectations that legitimately differ per mode are
 * the two flags below, nothing else.
 */

/** A new database owned by one test or suite. */
export interface OwnedDatabase {
  /** A connection (pool) to it; a server database may be opened more than once, PGlite once. */
  open(): Promise<Database>;
  /** Closes everything `open` returned, then removes the database. Idempotent. */
  dispose(): Promise<void>;
}

export interface DatabaseMode {
  name: string;
  /** What `migrate` must report: TimescaleDB installed, `readings` a hypertable. */
  timescale: boolean;
  /** Several connections can reach one database, so tests can race two processes. */
  server: boolean;
  createDatabase(): Promise<OwnedDatabase>;
}

/** A fresh database on a server, as test/support/services.ts `createTestDatabase` returns it. */
export interface ServerDatabase {
  url: string;
  drop(): Promise<void>;
}

export function pgliteMode(): DatabaseMode {
  return {
    name: 'PGlite with TimescaleDB (in memory)',
    timescale: true,
    server: false,
    async createDatabase() {
      let opened: Database | undefined;
      let disposing: Promise<void> | undefined;
      return {
        async open() {
          if (opened !== undefined) throw new Error('an in-memory PGlite database has one connection; open it once');
          opened = await createPgliteDatabase({ dataDir: undefined });
          return opened;
        },
        dispose: () => (disposing ??= opened?.close() ?? Promise.resolve()),
      };
    },
  };
}

export function serverMode(name: string, timescale: boolean, create: () => Promise<ServerDatabase>): DatabaseMode {
  return {
    name,
    timescale,
    server: true,
    async createDatabase() {
      const database = await create();
      const pools: Database[] = [];
      let disposing: Promise<void> | undefined;
      return {
        async open() {
          const db = createPgDatabase({ connectionString: database.url, maxConnections: 4 });
          pools.push(db);
          return db;
        },
        dispose: () =>
          (disposing ??= (async () => {
            // Every pool is closed and the database dropped even if one close fails.
            const closed = await Promise.allSettled(pools.map((db) => db.close()));
            await database.drop();
            const failed = closed.find((result) => result.status === 'rejected');
            if (failed !== undefined) throw failed.reason;
          })()),
      };
    },
  };
}

/**
 * Every mode this run can reach: PGlite and the run's PostgreSQL always, a TimescaleDB
 * server only when the caller has one (`undefined` otherwise; the suites then show a
 * skipped test saying so).
 */
export function databaseModes(servers: {
  postgres: () => Promise<ServerDatabase>;
  timescale: (() => Promise<ServerDatabase>) | undefined;
}): DatabaseMode[] {
  return [
    pgliteMode(),
    serverMode('PostgreSQL server without TimescaleDB', false, servers.postgres),
    ...(servers.timescale === undefined ? [] : [serverMode('TimescaleDB server', true, servers.timescale)]),
  ];
}
