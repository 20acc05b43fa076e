import type { Queryable } from './database.js';
import type { StorageCapabilities } from './migration.js';
import { listPartitions } from './plain-partitions.js';

/** One chunk (TimescaleDB) or partition (plain PostgreSQL) of readings or a rollup. */
export interface StorageChunk {
  table: 'readings' | 'rollup_1m' | 'rollup_1h';
  from: Date;
  to: Date;
  /** Stored compressed (columnstore); always false in plain PostgreSQL. */
  compressed: boolean;
}

/**
 * Where the data physically is, the same shape in every mode: for operators (what
 * retention and compression did) and for the storage contract tests.
 */
export async function listStorageChunks(db: Queryable, capabilities: StorageCapabilities): Promise<StorageChunk[]> {
  if (!capabilities.timescale) {
    return (await listPartitions(db)).map((partition) => ({
      table: partition.table,
      from: partition.from,
      to: partition.to,
      compressed: false,
    }));
  }
  // A continuous aggregate's chunks belong to its materialisation hypertable.
  const result = await db.query<{ relation: StorageChunk['table']; range_start: Date; range_end: Date; is_compressed: boolean }>(
    `SELECT coalesce(ca.view_name, c.hypertable_name)::text AS relation, c.range_start, c.range_end, c.is_compressed
     FROM timescaledb_information.chunks c
     LEFT JOIN timescaledb_information.continuous_aggregates ca
       ON ca.materialization_hypertable_schema = c.hypertable_schema AND ca.materialization_hypertable_name = c.hypertable_name
     WHERE coalesce(ca.view_name, c.hypertable_name) IN ('readings', 'rollup_1m', 'rollup_1h')
     ORDER BY 1, c.range_start`,
  );
  return result.rows.map((row) => ({
    table: row.relation,
    from: new Date(row.range_start),
    to: new Date(row.range_end),
    compressed: row.is_compressed,
  }));
}
