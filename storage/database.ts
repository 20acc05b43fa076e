/**
 * The one interface the stores use, implemented by a `pg` pool (PostgreSQL or
 * TimescaleDB server) and by embedded PGlite. Only bind parameters cross it.
 */

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows inserted, updated or deleted (0 for SELECT on some drivers). */
  rowCount: number;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
}

export type DatabaseKind = 'postgres' | 'pglite';

export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
