import { qualityFromCode } from '../../contracts/reading.js';
import type { AggregateName, AggregateSource } from '../../storage/aggregates-query.js';
import { queryRawRange, type RangeRow } from '../../storage/readings-store.js';
import type { ApiContext } from './api-context.js';
import { queryBucketed } from './bucketed-series.js';
import { encodeCursor } from './reading-cursor.js';
import type { ReadingsPlan } from './readings-params.js';

/** A device the request named, with its storage number. */
export interface NamedDevice {
  id: string;
  num: number;
}

export interface RawReadingJson {
  time: string;
  device: string;
  metric: string;
  value: number;
  unit: string | null;
  quality: string;
  sourceQuality?: number;
}

export interface RawAnswer {
  from: string;
  to: string;
  order: 'asc' | 'desc';
  source: 'raw';
  readings: RawReadingJson[];
  nextCursor: string | null;
}

export interface SeriesJson {
  device: string;
  metric: string;
  unit: string | null;
  buckets: ({ time: string } & Partial<Record<AggregateName, number | null>>)[];
}

export interface BucketedAnswerJson {
  from: string;
  to: string;
  bucket: string;
  tz: string;
  aggs: AggregateName[];
  source: AggregateSource;
  series: SeriesJson[];
}

const MAX_METRIC = 32767;

/**
 * Raw readings of several devices as one keyset-paged series ordered by (time, device,
 * metric): each device is asked for the page after the cursor's position as that
 * device sees it, then the pages are merged. One device is the same with no device key.
 */
export async function answerRaw(context: ApiContext, devices: readonly NamedDevice[], plan: ReadingsPlan, multiSeries: boolean): Promise<RawAnswer> {
  const asc = plan.order === 'asc';
  const pages = await Promise.all(devices.map(async (device) => {
    const cursor = plan.after;
    let after: { time: Date; metricNum: number } | undefined = cursor;
    if (cursor !== undefined && cursor.deviceNum !== undefined && cursor.deviceNum !== device.num) {
      // A device before the cursor's in the order resumes strictly after its time; one after it, at its time.
      const before = asc ? device.num < cursor.deviceNum : device.num > cursor.deviceNum;
      after = { time: cursor.time, metricNum: before === asc ? MAX_METRIC : -1 };
    }
    const rows = await queryRawRange(context.db, {
      deviceNum: device.num, metricNums: plan.metricNums, from: new Date(plan.from), to: new Date(plan.to), limit: plan.limit, after, order: plan.order,
    });
    return rows.map((row) => ({ device, row }));
  }));
  const sign = asc ? 1 : -1;
  const merged = pages.flat().sort((a, b) =>
    sign * (a.row.time.getTime() - b.row.time.getTime() || a.device.num - b.device.num || a.row.metricNum - b.row.metricNum));
  const page = merged.slice(0, plan.limit);
  const last = page.at(-1);
  return {
    from: new Date(plan.from).toISOString(),
    to: new Date(plan.to).toISOString(),
    order: plan.order,
    source: 'raw',
    readings: page.map(({ device, row }) => rawJson(context, device.id, row)),
    nextCursor: page.length === plan.limit && last !== undefined
      ? encodeCursor({ time: last.row.time, metricNum: last.row.metricNum, ...(multiSeries ? { deviceNum: last.device.num } : {}) })
      : null,
  };
}

function rawJson(context: ApiContext, device: string, row: RangeRow): RawReadingJson {
  const metric = context.dictionary.keyOf(row.metricNum) ?? String(row.metricNum);
  return {
    time: row.time.toISOString(),
    device,
    metric,
    value: row.value,
    unit: context.catalogue.get(metric)?.unit ?? null,
    quality: qualityFromCode(row.qualityCode),
    ...(row.sourceQuality === undefined ? {} : { sourceQuality: row.sourceQuality }),
  };
}

/** Bucketed aggregates per (device, metric) series; with `fill` every bucket appears, empty ones as nulls. */
export async function answerBucketed(context: ApiContext, devices: readonly NamedDevice[], plan: ReadingsPlan): Promise<BucketedAnswerJson> {
  const spec = plan.bucketed;
  if (spec === undefined) throw new Error('answerBucketed needs a bucketed plan');
  const answers = await Promise.all(devices.map((device) => queryBucketed(context.db, {
    deviceNum: device.num, metricNums: plan.metricNums, from: plan.from, to: plan.to, bucket: spec.bucket, aggs: spec.aggs, tz: spec.tz,
  })));
  const series: SeriesJson[] = [];
  devices.forEach((device, index) => {
    const answer = answers[index];
    if (answer === undefined) return;
    const metricNums = plan.metricNums ?? [...new Set(answer.rows.map((row) => row.metricNum))];
    for (const metricNum of metricNums) {
      const metric = context.dictionary.keyOf(metricNum) ?? String(metricNum);
      const rows = new Map(answer.rows.filter((row) => row.metricNum === metricNum).map((row) => [row.bucket.getTime(), row]));
      const starts = spec.fill ? answer.starts : [...rows.keys()];
      series.push({
        device: device.id,
        metric,
        unit: context.catalogue.get(metric)?.unit ?? null,
        buckets: starts.map((start) => {
          const row = rows.get(start);
          const point: SeriesJson['buckets'][number] = { time: new Date(start).toISOString() };
          for (const name of spec.aggs) point[name] = row?.[name] ?? (name === 'count' ? 0 : null);
          return point;
        }),
      });
    }
  });
  const first = answers[0];
  return {
    from: new Date(first?.from ?? plan.from).toISOString(),
    to: new Date(first?.to ?? plan.to).toISOString(),
    bucket: spec.bucket.iso,
    tz: spec.tz,
    aggs: spec.aggs,
    source: first?.source ?? 'raw',
    series,
  };
}

const csvCell = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** The same data as CSV (RFC 4180): one row per reading, or per bucket of a series. */
export function toCsv(answer: RawAnswer | BucketedAnswerJson): string {
  const lines: unknown[][] = [];
  if ('readings' in answer) {
    lines.push(['time', 'device', 'metric', 'value', 'unit', 'quality']);
    for (const r of answer.readings) lines.push([r.time, r.device, r.metric, r.value, r.unit, r.quality]);
  } else {
    lines.push(['time', 'device', 'metric', 'unit', ...answer.aggs]);
    for (const s of answer.series) for (const b of s.buckets) lines.push([b.time, s.device, s.metric, s.unit, ...answer.aggs.map((name) => b[name])]);
  }
  return lines.map((line) => line.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
