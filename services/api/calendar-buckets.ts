import type { AggregateName, AggregateRow } from '../../storage/aggregates-query.js';

/**
 * Calendar arithmetic in an IANA zone through `Intl`, and exact merging of narrow
 * aggregate buckets into calendar ones. The store bins on fixed widths only; a local
 * day, week or month is a run of whole hours (or minutes) in every modern zone, so it
 * is answered by merging 1-hour (or 1-minute) buckets: sums and counts add, min/max
 * take the extreme, first/last come from the earliest/latest non-empty part.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let format = formatters.get(tz);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, format);
  }
  return format;
}

interface LocalDate { year: number; month: number; day: number }

function localParts(ms: number, tz: string): LocalDate & { hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return { year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1, hour: parts.hour ?? 0, minute: parts.minute ?? 0, second: parts.second ?? 0 };
}

/** The zone's offset from UTC at instant `ms`, in ms (Shanghai: +8 h). */
export function zoneOffsetMs(ms: number, tz: string): number {
  const local = localParts(ms, tz);
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return wall - (ms - (ms % 1000 + 1000) % 1000);
}

/** The instant of local midnight starting `date` in `tz` (two passes settle the offset across a DST change). */
export function zonedMidnight(date: LocalDate, tz: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day);
  const first = wall - zoneOffsetMs(wall, tz);
  return wall - zoneOffsetMs(first, tz);
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/**
 * Starts of the calendar buckets covering [fromMs, toMs), plus the end of the last one.
 * Weeks start on Monday (ISO 8601); multi-unit buckets count from the first bucket.
 */
export function calendarBoundaries(fromMs: number, toMs: number, unit: 'day' | 'week' | 'month', count: number, tz: string, maxBuckets: number): number[] | undefined {
  const start = localParts(fromMs, tz);
  let date: LocalDate = { year: start.year, month: start.month, day: start.day };
  if (unit === 'week') {
    const weekday = (new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7;
    date = addDays(date, -weekday);
  }
  if (unit === 'month') date = { year: date.year, month: date.month, day: 1 };
  const boundaries = [zonedMidnight(date, tz)];
  while ((boundaries.at(-1) ?? toMs) < toMs) {
    if (boundaries.length > maxBuckets) return undefined;
    if (unit === 'month') {
      const next = new Date(Date.UTC(date.year, date.month - 1 + count, 1));
      date = { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: 1 };
    } else {
      date = addDays(date, unit === 'week' ? 7 * count : count);
    }
    boundaries.push(zonedMidnight(date, tz));
  }
  return boundaries;
}

/** The widest store bucket (1 h, 1 min, 1 s) that every boundary falls on. */
export function tilingWidthMs(boundaries: readonly number[]): number {
  for (const width of [3_600_000, 60_000, 1000]) {
    if (boundaries.every((ms) => ms % width === 0)) return width;
  }
  return 1;
}

/** What must be asked of the store to merge `aggs` exactly. */
export function mergeInputs(aggs: readonly AggregateName[]): AggregateName[] {
  const needed = new Set(aggs);
  if (needed.has('avg')) {
    needed.add('sum');
    needed.add('count');
  }
  return [...needed];
}

/**
 * Merges one metric's narrow rows (sorted by time) into the buckets [boundaries[i], boundaries[i+1]).
 * Empty buckets are left out.
 */
export function mergeIntoBuckets(rows: readonly AggregateRow[], boundaries: readonly number[], aggs: readonly AggregateName[]): AggregateRow[] {
  const merged: AggregateRow[] = [];
  let index = 0;
  for (const row of rows) {
    const time = row.bucket.getTime();
    while (index < boundaries.length - 2 && time >= (boundaries[index + 1] ?? Infinity)) index++;
    const start = boundaries[index] ?? time;
    let target = merged.at(-1);
    if (target === undefined || target.bucket.getTime() !== start) {
      target = { metricNum: row.metricNum, bucket: new Date(start) };
      merged.push(target);
      if (row.first !== undefined) target.first = row.first;
    }
    if (row.sum !== undefined) target.sum = (target.sum ?? 0) + row.sum;
    if (row.count !== undefined) target.count = (target.count ?? 0) + row.count;
    if (row.min !== undefined) target.min = Math.min(target.min ?? Infinity, row.min);
    if (row.max !== undefined) target.max = Math.max(target.max ?? -Infinity, row.max);
    if (row.last !== undefined) target.last = row.last;
  }
  if (aggs.includes('avg')) for (const row of merged) row.avg = (row.sum ?? 0) / (row.count ?? 1);
  for (const row of merged) {
    if (!aggs.includes('sum')) delete row.sum;
    if (!aggs.includes('count')) delete row.count;
  }
  return merged;
}
