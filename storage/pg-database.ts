import pg from 'pg';
import type { Database, Queryable, QueryResult } from './database.js';

export interface PgDatabaseOptions {
  connectionString: string;
  /** @defaultValue 10 */
  maxConnections?: number;
  /** Fail a request for a connection instead of waiting forever when the pool is exhausted. @defaultValue 10000 */
  connectionTimeoutMs?: number;
}

function toResult<Row>(result: pg.QueryResult): QueryResult<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}

export function createPgDatabase(options: PgDatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    application_name: 'urbansense',
  });
  // An idle client losing its server (restart, failover) emits on the pool; without a
  // listener that would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {});

  let closing: Promise<void> | undefined;
  return {
    kind: 'postgres',
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return toResult<Row>(await pool.query(sql, params as unknown[]));
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // pg-pool listens for errors only on idle clients. A server that goes away while
      // this one is checked out (restart, failover, between two queries of the
      // transaction) emits 'error' on it; unheard, that would crash the process. The
      // next query then fails, the transaction throws, the job is retried, and release()
      // discards the dead connection.
      const lost = (error: Error) => {
        broken = error;
      };
      client.on('error', lost);
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          async query<Row>(sql: string, params: readonly unknown[] = []) {
            return toResult<Row>(await client.query(sql, params as unknown[]));
          },
        };
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        // A connection whose ROLLBACK failed is in an unknown state: destroy it.
        client.off('error', lost);
        client.release(broken);
      }
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
