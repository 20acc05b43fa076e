/**
 * The columns every rollup has, in every mode (a continuous aggregate in TimescaleDB,
 * a partitioned table kept by the writer in plain PostgreSQL), so one query reads both.
 * Sum and count rather than an average, and first/last with their times, so rollups
 * merge exactly into wider buckets: avg = Σsum / Σcount, first = value at min(first_time).
 */
export const ROLLUP_VALUE_COLUMNS = ['count', 'sum', 'min', 'max', 'first_time', 'first_value', 'last_time', 'last_value'] as const;

/** The rollups: table name and bucket width, narrowest first. */
export const ROLLUPS = [
  { table: 'rollup_1m', bucket: '1 minute', bucketMs: 60_000 },
  { table: 'rollup_1h', bucket: '1 hour', bucketMs: 3_600_000 },
] as const;

export type RollupTable = (typeof ROLLUPS)[number]['table'];

/** Rollup chunks and partitions are this many raw chunks wide (TimescaleDB's own default for continuous aggregates). */
export const ROLLUP_CHUNK_FACTOR = 10;
export const ROLLUP_CHUNK_FACTOR_SQL = String(ROLLUP_CHUNK_FACTOR);

/** Key for the advisory lock that serialises partition creation and removal (plain PostgreSQL). */
export const PARTITION_LOCK_KEY = 7_311_203;

/**
 * The `insert_readings` function signature, the same in every mode: the writer sends
 * one array per column (one statement, any batch size) and gets the new-row count.
 */
export const INSERT_READINGS_SIGNATURE = `insert_readings(
  p_time timestamptz[], p_device integer[], p_metric smallint[],
  p_value double precision[], p_quality smallint[], p_source_quality integer[]) RETURNS integer`;

/**
 * The batch as rows, each delivery once: sorted by the unique key so that concurrent
 * writers take row and index locks in the same order (no deadlocks), and by position
 * within the batch so the first delivery of a duplicate is the one kept.
 */
export const BATCH_ROWS_SQL = `
    SELECT r.time, r.device_num, r.metric_num, r.value, r.quality, r.source_quality
    FROM unnest(p_time, p_device, p_metric, p_value, p_quality, p_source_quality) WITH ORDINALITY
      AS r(time, device_num, metric_num, value, quality, source_quality, ord)
    ORDER BY r.device_num, r.metric_num, r.time, r.ord`;
