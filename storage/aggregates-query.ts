import type { Queryable } from './database.js';
import { ROLLUPS, type RollupTable } from './migrations/rollup-columns.js';

export const AGGREGATES = ['avg', 'min', 'max', 'count', 'sum', 'first', 'last'] as const;
export type AggregateName = (typeof AGGREGATES)[number];

/** Where a bucketed answer was computed from. */
export type AggregateSource = 'raw' | RollupTable;

export interface AggregatesQuery {
  deviceNum: number;
  /** Only these metrics; `undefined` for all. */
  metricNums: readonly number[] | undefined;
  /** Every bucket overlapping [from, to) is answered whole (see {@link AggregatesResult.from}). */
  from: Date;
  to: Date;
  /** Bucket width, a whole number of ms. */
  bucketMs: number;
  aggs: readonly AggregateName[];
  /**
   * Buckets start at `origin + k × bucketMs`. Epoch (UTC) for now; a local midnight
   * here gives calendar-day buckets in that zone's fixed offset. @defaultValue the epoch
   */
  origin?: Date;
}

/** One bucket of one metric; only the aggregates asked for are set. */
export interface AggregateRow {
  metricNum: number;
  bucket: Date;
  avg?: number;
  min?: number;
  max?: number;
  count?: number;
  sum?: number;
  /** Value of the bucket's earliest reading. */
  first?: number;
  /** Value of the bucket's latest reading. */
  last?: number;
}

export interface AggregatesResult {
  source: AggregateSource;
  /** Start of the first bucket: `from` rounded down to the bucket grid. */
  from: Date;
  /** End of the last bucket: `to` rounded up to the bucket grid. */
  to: Date;
  /** Non-empty buckets, by metric then time. */
  rows: AggregateRow[];
}

const floorTo = (ms: number, originMs: number, bucketMs: number) => originMs + Math.floor((ms - originMs) / bucketMs) * bucketMs;

/**
 * The coarsest data that answers exactly: a rollup whose buckets tile the asked-for
 * buckets (width and origin both multiples of the rollup's), else raw. Since answers
 * cover whole buckets, a rollup answer equals the raw one, in every mode.
 */
export function chooseAggregateSource(bucketMs: number, originMs = 0): AggregateSource {
  for (const rollup of [...ROLLUPS].reverse()) {
    if (bucketMs % rollup.bucketMs === 0 && originMs % rollup.bucketMs === 0) return rollup.table;
  }
  return 'raw';
}

/** Raw readings seen as one-reading buckets, so one query shape serves every source. */
const RAW_AS_BUCKETS = `(
  SELECT device_num, metric_num, time AS bucket, 1 AS count, value AS sum, value AS min, value AS max,
         time AS first_time, value AS first_value, time AS last_time, value AS last_value
  FROM readings) AS raw`;

/**
 * Merging partial buckets: sums and counts add (so avg = Σsum / Σcount, never an
 * average of averages), first/last come from the part with the earliest/latest time.
 */
const MERGED: Record<AggregateName, string> = {
  avg: 'sum(sum) / sum(count)::float8 AS avg',
  min: 'min(min) AS min',
  max: 'max(max) AS max',
  count: 'sum(count)::float8 AS count',
  sum: 'sum(sum) AS sum',
  first: '(array_agg(first_value ORDER BY first_time))[1] AS first',
  last: '(array_agg(last_value ORDER BY last_time DESC))[1] AS last',
};

/**
 * Bucketed aggregates of one device's metrics, from raw readings, the 1-minute or the
 * 1-hour rollup as {@link chooseAggregateSource} decides, with bind parameters only.
 */
export async function queryAggregates(db: Queryable, query: AggregatesQuery): Promise<AggregatesResult> {
  const { bucketMs } = query;
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new RangeError(`bucketMs must be a positive whole number, got ${bucketMs}`);
  const aggs = AGGREGATES.filter((name) => query.aggs.includes(name));
  if (aggs.length === 0) throw new RangeError('ask for at least one aggregate');
  const originMs = query.origin?.getTime() ?? 0;
  const source = chooseAggregateSource(bucketMs, originMs);
  const from = floorTo(query.from.getTime(), originMs, bucketMs);
  const toFloor = floorTo(query.to.getTime(), originMs, bucketMs);
  const to = toFloor === query.to.getTime() ? toFloor : toFloor + bucketMs;
  const result = await db.query<Record<string, unknown> & { metric_num: number; bucket: Date }>(
    `SELECT metric_num, date_bin($5::interval, bucket, $6::timestamptz) AS bucket, ${aggs.map((name) => MERGED[name]).join(', ')}
     FROM ${source === 'raw' ? RAW_AS_BUCKETS : source}
     WHERE device_num = $1 AND metric_num = ANY(COALESCE($2::smallint[], (SELECT array_agg(num) FROM metrics)))
       AND bucket >= $3 AND bucket < $4
     GROUP BY 1, 2
     ORDER BY 1, 2`,
    [
      query.deviceNum,
      query.metricNums === undefined ? null : [...query.metricNums],
      new Date(from).toISOString(),
      new Date(to).toISOString(),
      `${bucketMs} milliseconds`,
      new Date(originMs).toISOString(),
    ],
  );
  return {
    source,
    from: new Date(from),
    to: new Date(to),
    rows: result.rows.map((row) => {
      const out: AggregateRow = { metricNum: row.metric_num, bucket: new Date(row.bucket) };
      for (const name of aggs) out[name] = Number(row[name]);
      return out;
    }),
  };
}
