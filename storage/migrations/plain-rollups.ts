import type { Queryable } from '../database.js';
import { createPartitioning } from './plain-partitioning.js';
import { BATCH_ROWS_SQL, INSERT_READINGS_SIGNATURE, ROLLUP_CHUNK_FACTOR_SQL, ROLLUPS } from './rollup-columns.js';

/*
 * Plain PostgreSQL mode, rollups kept by the app, in two steps so writers never wait
 * for each other:
 * 1. The writer appends, in the statement that inserts a batch, one partial aggregate
 *    per (series, minute) of the rows it really inserted to `rollup_pending`: a plain
 *    insert, no conflict, no row lock shared with other writers.
 * 2. Maintenance folds the pending partials into the partitioned 1-minute and 1-hour
 *    tables (delete and merge in one transaction, so a reader sees each partial once).
 * The public views `rollup_1m` and `rollup_1h` merge folded and pending rows, so
 * answers are exact at once, like TimescaleDB's real-time aggregation. Every part
 * merges exactly: counts and sums add, min/max compare, first/last keep their times.
 */

const COLUMNS = `
  device_num integer NOT NULL,
  metric_num smallint NOT NULL,
  bucket timestamptz NOT NULL,
  count bigint NOT NULL,
  sum double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  first_time timestamptz NOT NULL,
  first_value double precision NOT NULL,
  last_time timestamptz NOT NULL,
  last_value double precision NOT NULL`;

/** Partial aggregates merged into one row per group. */
const MERGE_PARTS = `sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
  min(first_time) AS first_time, (array_agg(first_value ORDER BY first_time))[1] AS first_value,
  max(last_time) AS last_time, (array_agg(last_value ORDER BY last_time DESC))[1] AS last_value`;

function upsertMerging(table: string, source: string): string {
  return `
      INSERT INTO ${table} AS r ${source}
      ON CONFLICT (device_num, metric_num, bucket) DO UPDATE SET
        count = r.count + excluded.count,
        sum = r.sum + excluded.sum,
        min = least(r.min, excluded.min),
        max = greatest(r.max, excluded.max),
        first_time = least(r.first_time, excluded.first_time),
        first_value = CASE WHEN excluded.first_time < r.first_time THEN excluded.first_value ELSE r.first_value END,
        last_time = greatest(r.last_time, excluded.last_time),
        last_value = CASE WHEN excluded.last_time > r.last_time THEN excluded.last_value ELSE r.last_value END`;
}

/**
 * Insert the batch, ignoring duplicates; only the rows really inserted (RETURNING) become
 * partials, so a redelivery never counts twice. `moreSteps` are further data-modifying
 * CTEs over `written` (migration 006 adds the series registration).
 */
export function writeReadingsFunction(create: 'CREATE' | 'CREATE OR REPLACE', moreSteps = ''): string {
  return `
  ${create} FUNCTION storage_internal.write_readings(
    p_time timestamptz[], p_device integer[], p_metric smallint[],
    p_value double precision[], p_quality smallint[], p_source_quality integer[]) RETURNS integer
  LANGUAGE plpgsql AS $fn$
  DECLARE inserted integer;
  BEGIN
    WITH written AS (
      INSERT INTO readings (time, device_num, metric_num, value, quality, source_quality) ${BATCH_ROWS_SQL}
      ON CONFLICT DO NOTHING
      RETURNING time, device_num, metric_num, value
    ), partials AS (
      INSERT INTO storage_internal.rollup_pending
      SELECT device_num, metric_num, date_bin('1 minute', time, timestamptz 'epoch'),
             count(*), sum(value), min(value), max(value),
             min(time), (array_agg(value ORDER BY time))[1], max(time), (array_agg(value ORDER BY time DESC))[1]
      FROM written GROUP BY 1, 2, 3
    )${moreSteps}
    SELECT count(*) INTO inserted FROM written;
    RETURN inserted;
  END $fn$`;
}

/**
 * The write entry point. Partitions are made ahead by maintenance; a reading for a
 * range without one (late data, a backfill) fails with check_violation ("no partition
 * of relation … found for row"; these tables have no CHECK constraints), and then the
 * partitions are created and the batch written again. The exception block costs one
 * subtransaction per batch, the price of never checking partitions up front.
 */
const INSERT_FUNCTION = `
  CREATE FUNCTION ${INSERT_READINGS_SIGNATURE}
  LANGUAGE plpgsql AS $fn$
  BEGIN
    BEGIN
      RETURN storage_internal.write_readings(p_time, p_device, p_metric, p_value, p_quality, p_source_quality);
    EXCEPTION WHEN check_violation THEN
      PERFORM storage_internal.ensure('readings', p_time, (SELECT chunk_interval FROM storage_settings));
    END;
    RETURN storage_internal.write_readings(p_time, p_device, p_metric, p_value, p_quality, p_source_quality);
  END $fn$`;

/**
 * Moves every pending partial into the 1-minute and 1-hour tables in one statement
 * (one transaction: readers see each partial either pending or folded, never both).
 * Partials written meanwhile are not in this statement's snapshot and wait for the
 * next fold. Returns the partials folded.
 */
const FOLD_FUNCTION = `
  CREATE FUNCTION storage_internal.fold_once() RETURNS integer
  LANGUAGE plpgsql AS $fn$
  DECLARE folded integer;
  BEGIN
    WITH moved AS (
      DELETE FROM storage_internal.rollup_pending RETURNING *
    ), minutes AS (
      SELECT device_num, metric_num, bucket, ${MERGE_PARTS} FROM moved GROUP BY 1, 2, 3
    ), minute_rows AS (${upsertMerging('storage_internal.rollup_1m', 'SELECT * FROM minutes ORDER BY 1, 2, 3')}
    ), hour_rows AS (${upsertMerging('storage_internal.rollup_1h', `
      SELECT device_num, metric_num, date_bin('1 hour', bucket, timestamptz 'epoch') AS bucket, ${MERGE_PARTS}
      FROM minutes GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)}
    )
    SELECT count(*) INTO folded FROM moved;
    RETURN folded;
  END $fn$`;

/** The fold, creating rollup partitions first when a partial falls where there is none. */
const FOLD_ENTRY_FUNCTION = `
  CREATE FUNCTION storage_internal.fold_pending() RETURNS integer
  LANGUAGE plpgsql AS $fn$
  DECLARE
    step interval := (SELECT chunk_interval FROM storage_settings) * ${ROLLUP_CHUNK_FACTOR_SQL};
    buckets timestamptz[];
  BEGIN
    BEGIN
      RETURN storage_internal.fold_once();
    EXCEPTION WHEN check_violation THEN
      buckets := ARRAY(SELECT DISTINCT date_bin('1 hour', bucket, timestamptz 'epoch') FROM storage_internal.rollup_pending);
      PERFORM storage_internal.ensure('storage_internal.rollup_1m', buckets, step);
      PERFORM storage_internal.ensure('storage_internal.rollup_1h', buckets, step);
    END;
    RETURN storage_internal.fold_once();
  END $fn$`;

export async function createPlainRollups(tx: Queryable): Promise<void> {
  await createPartitioning(tx);
  for (const { table } of ROLLUPS) {
    await tx.query(`
      CREATE TABLE storage_internal.${table} (${COLUMNS},
        CONSTRAINT ${table}_series_bucket PRIMARY KEY (device_num, metric_num, bucket)
      ) PARTITION BY RANGE (bucket)`);
  }
  // Small and short-lived (folded every maintenance pass); indexed for the views' lookups by series.
  await tx.query(`CREATE TABLE storage_internal.rollup_pending (${COLUMNS})`);
  await tx.query('CREATE INDEX rollup_pending_series ON storage_internal.rollup_pending (device_num, metric_num, bucket)');
  for (const { table, bucket } of ROLLUPS) {
    const pendingBucket = bucket === '1 minute' ? 'bucket' : `date_bin('${bucket}', bucket, timestamptz 'epoch')`;
    await tx.query(`
      CREATE VIEW ${table} AS
      SELECT device_num, metric_num, bucket, ${MERGE_PARTS}
      FROM (
        SELECT * FROM storage_internal.${table}
        UNION ALL
        SELECT device_num, metric_num, ${pendingBucket} AS bucket, count, sum, min, max, first_time, first_value, last_time, last_value
        FROM storage_internal.rollup_pending
      ) AS parts
      GROUP BY device_num, metric_num, bucket`);
  }
  for (const statement of [writeReadingsFunction('CREATE'), INSERT_FUNCTION, FOLD_FUNCTION, FOLD_ENTRY_FUNCTION]) await tx.query(statement);
}
