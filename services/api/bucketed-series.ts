import { queryAggregates, type AggregateName, type AggregateRow, type AggregateSource } from '../../storage/aggregates-query.js';
import type { Queryable } from '../../storage/database.js';
import { calendarBoundaries, mergeInputs, mergeIntoBuckets, tilingWidthMs, zonedMidnight } from './calendar-buckets.js';
import { badParameter } from './problem.js';
import type { Bucket } from './time-params.js';

/** Most buckets one series may have in an answer: range ÷ bucket above this is a 400, not a slow query. */
export const MAX_BUCKETS_PER_SERIES = 10_000;
/** Most store buckets merged into calendar buckets per series (about eleven years of hours). */
const MAX_TILES_PER_SERIES = 100_000;

export interface BucketedQuery {
  deviceNum: number;
  metricNums: readonly number[] | undefined;
  from: number;
  to: number;
  bucket: Bucket;
  aggs: readonly AggregateName[];
  tz: string;
}

export interface BucketedAnswer {
  source: AggregateSource;
  /** Start of the first bucket and end of the last. */
  from: number;
  to: number;
  /** Every bucket start in [from, to), for gap filling. */
  starts: number[];
  rows: AggregateRow[];
}

function tooMany(count: number, bucket: Bucket): never {
  throw badParameter('query', 'bucket', `${bucket.iso} over this range is ${count} buckets per series; the limit is ${MAX_BUCKETS_PER_SERIES}: use a wider bucket or a shorter range`);
}

function byMetric(rows: readonly AggregateRow[]): Map<number, AggregateRow[]> {
  const groups = new Map<number, AggregateRow[]>();
  for (const row of rows) {
    const group = groups.get(row.metricNum) ?? [];
    group.push(row);
    groups.set(row.metricNum, group);
  }
  return groups;
}

/**
 * One device's bucketed aggregates. Fixed widths are laid from local midnight of `from`'s
 * day in `tz` (so PT6H buckets start at 00:00, 06:00… local) and binned by the store;
 * calendar buckets are merged from the widest store buckets that tile them.
 */
export async function queryBucketed(db: Queryable, query: BucketedQuery): Promise<BucketedAnswer> {
  const { bucket, tz } = query;
  if (bucket.kind === 'fixed') {
    const count = Math.ceil((query.to - query.from) / bucket.ms);
    if (count > MAX_BUCKETS_PER_SERIES) tooMany(count, bucket);
    const local = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(query.from));
    const [year = 1970, month = 1, day = 1] = local.split('-').map(Number);
    const origin = zonedMidnight({ year, month, day }, tz);
    const result = await queryAggregates(db, {
      deviceNum: query.deviceNum, metricNums: query.metricNums, from: new Date(query.from), to: new Date(query.to),
      bucketMs: bucket.ms, aggs: query.aggs, origin: new Date(origin),
    });
    const starts: number[] = [];
    for (let start = result.from.getTime(); start < result.to.getTime(); start += bucket.ms) starts.push(start);
    return { source: result.source, from: result.from.getTime(), to: result.to.getTime(), starts, rows: result.rows };
  }
  const boundaries = calendarBoundaries(query.from, query.to, bucket.unit, bucket.count, tz, MAX_BUCKETS_PER_SERIES);
  if (boundaries === undefined) tooMany(MAX_BUCKETS_PER_SERIES + 1, bucket);
  const first = boundaries[0] ?? query.from;
  const last = boundaries.at(-1) ?? query.to;
  const width = tilingWidthMs(boundaries);
  if ((last - first) / width > MAX_TILES_PER_SERIES) {
    throw badParameter('query', 'from', `the range is too long for ${bucket.iso} buckets in ${tz}; the limit is ${MAX_TILES_PER_SERIES} store buckets of ${width} ms per series`);
  }
  const tiles = await queryAggregates(db, {
    deviceNum: query.deviceNum, metricNums: query.metricNums, from: new Date(first), to: new Date(last),
    bucketMs: width, aggs: mergeInputs(query.aggs),
  });
  const rows = [...byMetric(tiles.rows).values()].flatMap((group) => mergeIntoBuckets(group, boundaries, query.aggs));
  return { source: tiles.source, from: first, to: last, starts: boundaries.slice(0, -1), rows };
}
