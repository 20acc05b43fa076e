import type { Queryable } from '../database.js';
import { BATCH_ROWS_SQL, INSERT_READINGS_SIGNATURE, ROLLUPS } from './rollup-columns.js';

/** TimescaleDB renamed compression to "columnstore" in 2.18; the old names are deprecated. */
export function hasColumnstoreApi(version: string | undefined): boolean {
  const [major = 0, minor = 0] = (version ?? '').split('.').map((part) => Number.parseInt(part, 10));
  return major > 2 || (major === 2 && minor >= 18);
}

/**
 * TimescaleDB mode: the rollups are continuous aggregates with real-time aggregation
 * (`materialized_only = false`: buckets not yet materialised are computed from raw at
 * query time), refreshed by policies; the writer only inserts raw readings.
 */
export async function createTimescaleRollups(tx: Queryable, timescaleVersion: string | undefined): Promise<void> {
  for (const { table, bucket } of ROLLUPS) {
    // WITH NO DATA: materialising inside the migration transaction is not allowed, and
    // the first refresh (maintenance, at start) does it.
    await tx.query(`
      CREATE MATERIALIZED VIEW ${table}
      WITH (timescaledb.continuous, timescaledb.materialized_only = false, timescaledb.create_group_indexes = false) AS
      SELECT device_num, metric_num, time_bucket(INTERVAL '${bucket}', time) AS bucket,
             count(*) AS count, sum(value) AS sum, min(value) AS min, max(value) AS max,
             min(time) AS first_time, first(value, time) AS first_value,
             max(time) AS last_time, last(value, time) AS last_value
      FROM readings
      GROUP BY device_num, metric_num, time_bucket(INTERVAL '${bucket}', time)
      WITH NO DATA`);
    // One index matching every rollup query (series, then time), instead of the
    // default one per grouping column.
    await tx.query(`CREATE INDEX ${table}_series_bucket ON ${table} (device_num, metric_num, bucket)`);
  }
  // Segmented by series: a query for one series decompresses only that series' rows,
  // and a late reading into a compressed chunk touches one segment. Ordered by time,
  // newest first, like the hot queries.
  await tx.query(
    hasColumnstoreApi(timescaleVersion)
      ? `ALTER TABLE readings SET (timescaledb.enable_columnstore = true,
           timescaledb.segmentby = 'device_num, metric_num', timescaledb.orderby = 'time DESC')`
      : `ALTER TABLE readings SET (timescaledb.compress,
           timescaledb.compress_segmentby = 'device_num, metric_num', timescaledb.compress_orderby = 'time DESC')`,
  );
  await tx.query(insertReadingsFunction('CREATE'));
}

/**
 * The TimescaleDB write entry point. A late reading into a compressed chunk decompresses
 * the batch of its series it falls in; TimescaleDB caps that at 100 000 rows per
 * transaction by default, which a backfill batch can exceed and then fail on every
 * retry: unlimited for the writer. `moreSteps` are further data-modifying CTEs over
 * `written` (migration 006 adds the series registration).
 */
export function insertReadingsFunction(create: 'CREATE' | 'CREATE OR REPLACE', moreSteps = ''): string {
  return `
    ${create} FUNCTION ${INSERT_READINGS_SIGNATURE}
    LANGUAGE plpgsql
    SET timescaledb.max_tuples_decompressed_per_dml_transaction = 0
    AS $fn$
    DECLARE inserted integer;
    BEGIN
      WITH written AS (
        INSERT INTO readings (time, device_num, metric_num, value, quality, source_quality) ${BATCH_ROWS_SQL}
        ON CONFLICT DO NOTHING
        RETURNING device_num, metric_num
      )${moreSteps}
      SELECT count(*) INTO inserted FROM written;
      RETURN inserted;
    END $fn$`;
}
