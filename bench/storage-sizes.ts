import type { Queryable } from '../storage/database.js';
import type { StorageCapabilities } from '../storage/migration.js';
import { print } from './storage-dataset.js';

/*
 * Bytes per stored row, measured after loading: the row as PostgreSQL stores it
 * (pg_column_size of the whole row, header included) and the table and index bytes
 * on disk divided by the rows, for readings and each rollup.
 */

interface SizeRow {
  relation: string;
  rows: number;
  tuple: number | null;
  heap: number;
  indexes: number;
}

/** Plain PostgreSQL: the leaf partitions behind each kind of data. */
const PLAIN_SIZES = `
  SELECT parent AS relation,
         (SELECT count(*) FROM pg_partition_tree(parent::regclass) t WHERE t.isleaf) AS leaves,
         coalesce((SELECT sum(pg_relation_size(t.relid)) FROM pg_partition_tree(parent::regclass) t WHERE t.isleaf), 0)::float8 AS heap,
         coalesce((SELECT sum(pg_indexes_size(t.relid)) FROM pg_partition_tree(parent::regclass) t WHERE t.isleaf), 0)::float8 AS indexes
  FROM unnest(ARRAY['readings', 'storage_internal.rollup_1m', 'storage_internal.rollup_1h']) AS parent`;

export async function printRowSizes(db: Queryable, capabilities: StorageCapabilities): Promise<void> {
  const rows: SizeRow[] = [];
  for (const relation of ['readings', 'rollup_1m', 'rollup_1h']) {
    const count = await db.query<{ rows: number; tuple: number | null }>(
      `SELECT count(*)::float8 AS rows, avg(pg_column_size(r.*))::float8 AS tuple FROM ${relation} r`,
    );
    let heap: number;
    let indexes: number;
    if (capabilities.timescale) {
      // The detailed size covers the chunks and, compressed, their columnstore tables.
      const hypertable = relation === 'readings'
        ? 'readings'
        : (await db.query<{ name: string }>(
            `SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) AS name
             FROM timescaledb_information.continuous_aggregates WHERE view_name = $1`, [relation],
          )).rows[0]!.name;
      const size = await db.query<{ table_bytes: number; index_bytes: number; toast_bytes: number }>(
        `SELECT table_bytes::float8, index_bytes::float8, toast_bytes::float8 FROM hypertable_detailed_size($1::regclass)`, [hypertable],
      );
      heap = (size.rows[0]?.table_bytes ?? 0) + (size.rows[0]?.toast_bytes ?? 0);
      indexes = size.rows[0]?.index_bytes ?? 0;
    } else {
      // The rollups' folded rows live in storage_internal (pending partials, folded just before, are few).
      const size = (await db.query<{ relation: string; heap: number; indexes: number }>(PLAIN_SIZES)).rows.find((row) => row.relation.endsWith(relation));
      heap = size?.heap ?? 0;
      indexes = size?.indexes ?? 0;
    }
    rows.push({ relation, rows: count.rows[0]?.rows ?? 0, tuple: count.rows[0]?.tuple ?? null, heap, indexes });
  }
  print('\n| relation | rows | row (pg_column_size) B | heap B/row | indexes B/row | total B/row |\n|---|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const per = (bytes: number) => (row.rows === 0 ? '-' : (bytes / row.rows).toFixed(1));
    print(`| ${row.relation} | ${row.rows} | ${row.tuple?.toFixed(1) ?? '-'} | ${per(row.heap)} | ${per(row.indexes)} | ${per(row.heap + row.indexes)} |`);
  }
  if (capabilities.timescale) {
    const stats = await db.query<Record<string, number>>(
      `SELECT total_chunks::float8, number_compressed_chunks::float8, before_compression_total_bytes::float8 AS before, after_compression_total_bytes::float8 AS after
       FROM hypertable_columnstore_stats('readings')`,
    );
    const s = stats.rows[0];
    if (s !== undefined) print(`\nreadings compression: ${s.number_compressed_chunks} of ${s.total_chunks} chunks compressed, ${s.before} → ${s.after} bytes (${(s.before! / s.after!).toFixed(1)}×)`);
  }
}
