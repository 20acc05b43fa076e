import type { Queryable } from './database.js';

/** A reading as stored: narrow keys, quality as its smallint code. */
export interface StoredReading {
  time: Date;
  deviceNum: number;
  metricNum: number;
  value: number;
  qualityCode: number;
  sourceQuality: number | undefined;
}

/**
 * A float64 as PostgreSQL's float8 input reads it back to the same number. The drivers
 * send `String(value)`, which is exact except for negative zero ("0").
 */
function float8Text(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

/** A batch as the six parameter arrays of `insert_readings` and `keep_newest_readings`. */
export interface ReadingBatch {
  readonly rows: number;
  readonly arrays: readonly string[];
}

export function readingBatch(readings: readonly StoredReading[]): ReadingBatch {
  const times: string[] = [];
  const devices: number[] = [];
  const metrics: number[] = [];
  const values: string[] = [];
  const qualities: number[] = [];
  const sourceQualities: (number | string)[] = [];
  for (const reading of readings) {
    times.push(reading.time.toISOString());
    devices.push(reading.deviceNum);
    metrics.push(reading.metricNum);
    values.push(float8Text(reading.value));
    qualities.push(reading.qualityCode);
    sourceQualities.push(reading.sourceQuality ?? 'NULL');
  }
  // Array literals written here: none of these elements needs quoting (ISO instants,
  // numbers, NULL), and the drivers would quote and escape each element of each column,
  // which cost the ingest worker more than building the rows (issue 9, profiled).
  return { rows: readings.length, arrays: [times, devices, metrics, values, qualities, sourceQualities].map(arrayLiteral) };
}

const BATCH_PARAMETERS = '$1::timestamptz[], $2::integer[], $3::smallint[], $4::float8[], $5::smallint[], $6::integer[]';

/**
 * Writes a batch in one statement through `insert_readings` (migration 002), which is
 * the same call in every mode: in plain PostgreSQL it also records the batch's rollup
 * partials (folded by maintenance) and creates missing partitions. The unique key (device, metric, time) makes
 * a redelivered or retried reading a no-op, so the return value counts only new rows.
 * Parameter arrays (`unnest`) rather than COPY: measured as fast at our batch sizes,
 * and the same on PGlite (docs/storage.md, "Batch writes").
 */
export async function writeReadingBatch(db: Queryable, batch: ReadingBatch): Promise<number> {
  if (batch.rows === 0) return 0;
  const result = await db.query<{ inserted: number }>(`SELECT insert_readings(${BATCH_PARAMETERS}) AS inserted`, [...batch.arrays]);
  return result.rows[0]?.inserted ?? 0;
}

/**
 * Keeps each series' newest reading of the batch beside it (`keep_newest_readings`,
 * migration 008), registering new series. Run it as the transaction's last statement:
 * its row locks hold every other batch of the same series until this one commits, so
 * the shorter that window the less concurrent jobs queue (issue 9: run before the alert
 * evaluation, the ingest latency's p50 went from 72 to 160 ms; docs/storage.md).
 */
export async function keepNewestReadings(db: Queryable, batch: ReadingBatch): Promise<void> {
  if (batch.rows === 0) return;
  await db.query(`SELECT keep_newest_readings(${BATCH_PARAMETERS})`, [...batch.arrays]);
}

/** Writes a batch and keeps its newest readings: both steps, for writers with nothing else in the transaction. */
export async function insertReadings(db: Queryable, readings: readonly StoredReading[]): Promise<number> {
  const batch = readingBatch(readings);
  const inserted = await writeReadingBatch(db, batch);
  await keepNewestReadings(db, batch);
  return inserted;
}

/** `{a,b,c}`: PostgreSQL's array input for elements that need no quotes. */
function arrayLiteral(elements: readonly (string | number)[]): string {
  return `{${elements.join(',')}}`;
}

export interface RawRangeQuery {
  deviceNum: number;
  /** Only these metrics; `undefined` for all. */
  metricNums: readonly number[] | undefined;
  from: Date;
  /** Exclusive. */
  to: Date;
  limit: number;
  /** Resume after this (time, metric) position, in `order`: the keyset cursor of the previous page. */
  after: { time: Date; metricNum: number } | undefined;
  /** By (time, metric), oldest first or newest first. @defaultValue 'asc' */
  order?: 'asc' | 'desc';
}

export interface RangeRow {
  time: Date;
  metricNum: number;
  value: number;
  qualityCode: number;
  sourceQuality: number | undefined;
}

interface RangeDbRow {
  time: Date;
  metric_num: number;
  value: number;
  quality: number;
  source_quality: number | null;
}

/**
 * One index range scan per metric, each stopping after `limit` rows, then the merge:
 * a page costs O(metrics × limit) whatever the range, where one scan of the device's
 * readings sorted by time would read the whole range first. The cursor bound is also
 * an index bound (time ≥ or ≤ the cursor's), so deep pages cost the same as the first.
 */
const RAW_RANGE_SQL = {
  asc: `
    SELECT r.time, m.num AS metric_num, r.value, r.quality, r.source_quality
    FROM unnest(COALESCE($4::smallint[], (SELECT array_agg(num) FROM metrics))) AS m(num)
    CROSS JOIN LATERAL (
      SELECT time, value, quality, source_quality FROM readings
      WHERE device_num = $1 AND metric_num = m.num AND time >= $2 AND time < $3
        AND time >= COALESCE($5::timestamptz, '-infinity')
        AND ($5::timestamptz IS NULL OR time > $5::timestamptz OR m.num > $6::smallint)
      ORDER BY time LIMIT $7
    ) r
    ORDER BY r.time, m.num
    LIMIT $7`,
  desc: `
    SELECT r.time, m.num AS metric_num, r.value, r.quality, r.source_quality
    FROM unnest(COALESCE($4::smallint[], (SELECT array_agg(num) FROM metrics))) AS m(num)
    CROSS JOIN LATERAL (
      SELECT time, value, quality, source_quality FROM readings
      WHERE device_num = $1 AND metric_num = m.num AND time >= $2 AND time < $3
        AND time <= COALESCE($5::timestamptz, 'infinity')
        AND ($5::timestamptz IS NULL OR time < $5::timestamptz OR m.num < $6::smallint)
      ORDER BY time DESC LIMIT $7
    ) r
    ORDER BY r.time DESC, m.num DESC
    LIMIT $7`,
};

/** Raw readings of one device, by (time, metric) ascending or descending. */
export async function queryRawRange(db: Queryable, query: RawRangeQuery): Promise<RangeRow[]> {
  const result = await db.query<RangeDbRow>(RAW_RANGE_SQL[query.order ?? 'asc'], [
    query.deviceNum,
    query.from.toISOString(),
    query.to.toISOString(),
    query.metricNums === undefined ? null : [...query.metricNums],
    query.after?.time.toISOString() ?? null,
    query.after?.metricNum ?? null,
    query.limit,
  ]);
  return result.rows.map((row) => ({
    time: new Date(row.time),
    metricNum: row.metric_num,
    value: row.value,
    qualityCode: row.quality,
    sourceQuality: row.source_quality ?? undefined,
  }));
}

export interface LatestRow extends RangeRow {
  metricKey: string;
}

/**
 * The newest reading of each metric of one device, as the writer keeps it beside each
 * series (reading_series, migration 008): one index range of a small table, however long
 * the history.
 */
export async function queryLatest(db: Queryable, deviceNum: number): Promise<LatestRow[]> {
  const result = await db.query<RangeDbRow & { key: string }>(
    `SELECT m.key, m.num AS metric_num, s.last_time AS time, s.last_value AS value, s.last_quality AS quality, s.last_source_quality AS source_quality
     FROM reading_series s
     JOIN metrics m ON m.num = s.metric_num
     WHERE s.device_num = $1 AND s.last_time IS NOT NULL
     ORDER BY m.key`,
    [deviceNum],
  );
  return result.rows.map((row) => ({
    metricKey: row.key,
    time: new Date(row.time),
    metricNum: row.metric_num,
    value: row.value,
    qualityCode: row.quality,
    sourceQuality: row.source_quality ?? undefined,
  }));
}
