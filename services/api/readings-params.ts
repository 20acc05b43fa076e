import { AGGREGATES, type AggregateName } from '../../storage/aggregates-query.js';
import type { ApiContext } from './api-context.js';
import { badParameter } from './problem.js';
import { decodeCursor, type CursorPosition } from './reading-cursor.js';
import { isTimeZone, parseBucket, parseInstantParam, type Bucket } from './time-params.js';

const DEFAULT_RANGE_MS = 24 * 3600 * 1000;
const DEFAULT_LIMIT = 1000;
/** Calendar buckets follow this zone unless `tz` says otherwise (the deployment is in China). */
export const DEFAULT_TZ = 'Asia/Shanghai';
/** Most devices one multi-series request may name. */
export const MAX_DEVICES_PER_REQUEST = 50;

const LIST_ITEM = '[A-Za-z0-9._-]';

/** The query string of both readings routes; `device` only on the multi-series one. */
export function readingsQuerySchema(maxReadings: number, multiSeries: boolean) {
  return {
    type: 'object',
    additionalProperties: false,
    ...(multiSeries ? { required: ['device'] } : {}),
    properties: {
      ...(multiSeries
        ? { device: { type: 'string', maxLength: 4000, pattern: `^${LIST_ITEM}{1,64}(,${LIST_ITEM}{1,64})*$`, description: `Comma-separated device ids, at most ${MAX_DEVICES_PER_REQUEST}.` } }
        : {}),
      metric: { type: 'string', maxLength: 2000, description: 'Comma-separated catalogue keys; all metrics when absent.' },
      from: { type: 'string', maxLength: 40, description: 'ISO 8601 instant with offset, `now`, or relative to now (`-24h`, `-90m`, `-7d`, `-2w`), inclusive. Default: 24 h before `to`.' },
      to: { type: 'string', maxLength: 40, description: 'Same forms as `from`, exclusive. Default: now.' },
      order: { type: 'string', enum: ['asc', 'desc'], default: 'asc', description: 'Raw readings oldest or newest first.' },
      limit: { type: 'integer', minimum: 1, maximum: maxReadings, default: Math.min(DEFAULT_LIMIT, maxReadings), description: 'Raw readings per page.' },
      cursor: { type: 'string', maxLength: 200, description: 'nextCursor of the previous page (raw readings).' },
      bucket: { type: 'string', maxLength: 20, description: '<n>s, <n>m, <n>h (fixed: 1m, 5m, 15m, 1h, 6h), <n>d, <n>w, <n>M (calendar days, ISO weeks from Monday, months), or an ISO 8601 duration (PT30S, PT6H, P1D, P1W, P3M). Calendar buckets follow `tz`.' },
      agg: { type: 'string', maxLength: 100, description: `Comma-separated: ${AGGREGATES.join(', ')}. Default avg. Needs bucket.` },
      tz: { type: 'string', maxLength: 64, default: DEFAULT_TZ, description: 'IANA zone that day, week and month buckets (and the origin of fixed ones) follow.' },
      fill: { type: 'string', enum: ['none', 'null'], default: 'none', description: '`null` answers empty buckets too, with null aggregates and count 0.' },
    },
  } as const;
}

export interface ReadingsQueryString {
  device?: string;
  metric?: string;
  from?: string;
  to?: string;
  order: 'asc' | 'desc';
  limit: number;
  cursor?: string;
  bucket?: string;
  agg?: string;
  tz: string;
  fill: 'none' | 'null';
}

export interface ReadingsPlan {
  from: number;
  to: number;
  metricNums: number[] | undefined;
  order: 'asc' | 'desc';
  limit: number;
  after: CursorPosition | undefined;
  /** Present for bucketed answers. */
  bucketed: { bucket: Bucket; aggs: AggregateName[]; tz: string; fill: boolean } | undefined;
}

function instant(name: 'from' | 'to', raw: string | undefined, fallbackMs: number, nowMs: number): number {
  if (raw === undefined) return fallbackMs;
  const ms = parseInstantParam(raw, nowMs);
  if (ms === undefined) throw badParameter('query', name, `"${raw}" is not an ISO 8601 instant with offset (2026-11-21T08:00:00+08:00), "now", or relative to now (-24h, -30m, -7d), in the years 1 to 9999`);
  return ms;
}

function parseAggs(raw: string | undefined): AggregateName[] {
  const names = (raw ?? 'avg').split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(AGGREGATES as readonly string[]).includes(name)) throw badParameter('query', 'agg', `"${name.slice(0, 20)}" is not one of ${AGGREGATES.join(', ')}`);
  }
  return [...new Set(names as AggregateName[])];
}

/** Turns the query string into a plan, or throws a 400 naming the parameter at fault. */
export function planReadings(context: ApiContext, query: ReadingsQueryString, nowMs: number): ReadingsPlan {
  const to = instant('to', query.to, nowMs, nowMs);
  const from = instant('from', query.from, to - DEFAULT_RANGE_MS, nowMs);
  if (from >= to) throw badParameter('query', 'from', 'must be before "to"');
  const metricNums = query.metric?.split(',').map((key) => key.trim()).filter(Boolean).map((key) => {
    const num = context.catalogue.has(key) ? context.dictionary.numOf(key) : undefined;
    if (num === undefined) throw badParameter('query', 'metric', `"${key.slice(0, 64)}" is not a catalogue metric (GET /api/v1/metrics lists them)`);
    return num;
  });
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && after === undefined) throw badParameter('query', 'cursor', 'is not a cursor this API issued');
  if (!isTimeZone(query.tz)) throw badParameter('query', 'tz', `"${query.tz}" is not an IANA time zone, e.g. Asia/Shanghai or UTC`);
  if (query.bucket === undefined) {
    if (query.agg !== undefined) throw badParameter('query', 'agg', 'needs a bucket (e.g. bucket=1h)');
    return { from, to, metricNums, order: query.order, limit: query.limit, after, bucketed: undefined };
  }
  const bucket = parseBucket(query.bucket);
  if (bucket === undefined) throw badParameter('query', 'bucket', `"${query.bucket}" is not <n> with s, m, h, d, w or M (1m, 15m, 6h, 1d, 1w, 1M) or an ISO 8601 duration such as PT30S or P1D`);
  if (bucket.kind === 'fixed' && bucket.ms < 1000) throw badParameter('query', 'bucket', 'must be at least 1 second');
  if (query.cursor !== undefined) throw badParameter('query', 'cursor', 'pages raw readings only; bucketed answers come whole');
  return { from, to, metricNums, order: query.order, limit: query.limit, after, bucketed: { bucket, aggs: parseAggs(query.agg), tz: query.tz, fill: query.fill === 'null' } };
}
