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

/**
 * Writes a batch in one statement. The unique key (device, metric, time) makes a
 * redelivered or retried reading a no-op, so the return value counts only new rows.
 */
export async function insertReadings(db: Queryable, readings: readonly StoredReading[]): Promise<number> {
  if (readings.length === 0) return 0;
  const times: string[] = [];
  const devices: number[] = [];
  const metrics: number[] = [];
  const values: string[] = [];
  const qualities: number[] = [];
  const sourceQualities: (number | null)[] = [];
  for (const reading of readings) {
    times.push(reading.time.toISOString());
    devices.push(reading.deviceNum);
    metrics.push(reading.metricNum);
    values.push(float8Text(reading.value));
    qualities.push(reading.qualityCode);
    sourceQualities.push(reading.sourceQuality ?? null);
  }
  const result = await db.query(
    `INSERT INTO readings (time, device_num, metric_num, value, quality, source_quality)
     SELECT * FROM unnest($1::timestamptz[], $2::integer[], $3::smallint[], $4::float8[], $5::smallint[], $6::integer[])
     ON CONFLICT DO NOTHING`,
    [times, devices, metrics, values, qualities, sourceQualities],
  );
  return result.rowCount;
}

export interface RawRangeQuery {
  deviceNum: number;
  /** Only these metrics; `undefined` for all. */
  metricNums: readonly number[] | undefined;
  from: Date;
  /** Exclusive. */
  to: Date;
  limit: number;
  /** Resume after this (time, metric) position: the keyset cursor of the previous page. */
  after: { time: Date; metricNum: number } | undefined;
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

/** Raw readings of one device, ascending by (time, metric). */
export async function queryRawRange(db: Queryable, query: RawRangeQuery): Promise<RangeRow[]> {
  const result = await db.query<RangeDbRow>(
    `SELECT time, metric_num, value, quality, source_quality FROM readings
     WHERE device_num = $1 AND time >= $2 AND time < $3
       AND ($4::smallint[] IS NULL OR metric_num = ANY($4::smallint[]))
       AND ($5::timestamptz IS NULL OR (time, metric_num) > ($5::timestamptz, $6::smallint))
     ORDER BY time, metric_num
     LIMIT $7`,
    [
      query.deviceNum,
      query.from.toISOString(),
      query.to.toISOString(),
      query.metricNums === undefined ? null : [...query.metricNums],
      query.after?.time.toISOString() ?? null,
      query.after?.metricNum ?? null,
      query.limit,
    ],
  );
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
 * The newest reading of each metric of one device: one index probe per known metric
 * (LATERAL … ORDER BY time DESC LIMIT 1), which stays fast however long the history.
 */
export async function queryLatest(db: Queryable, deviceNum: number): Promise<LatestRow[]> {
  const result = await db.query<RangeDbRow & { key: string }>(
    `SELECT m.key, m.num AS metric_num, r.time, r.value, r.quality, r.source_quality
     FROM metrics m
     CROSS JOIN LATERAL (
       SELECT time, value, quality, source_quality FROM readings
       WHERE device_num = $1 AND metric_num = m.num
       ORDER BY time DESC LIMIT 1
     ) r
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
